"""The emulator's runtime API: GetRecommendations, GetPersonalizedRanking, GetActionRecommendations.

:class:`Runtime` answers a request body already checked against botocore's
``personalize-runtime`` model (by :mod:`._emulator`, which also applies the per-ARN
quota and the fault plan): it finds the declared campaign or recommender, asks its
:class:`~personalize_sim.online.OnlineModels` kind, mints a fresh ``recommendationId``
and returns the JSON answer with the row the store keeps (who issued the id, which
items it showed). :meth:`Runtime.learn` feeds the models every event the tracker
stored, so the next answer already reflects it.

Rules the model cannot carry, each answered as the service does:

- exactly one of ``campaignArn`` / ``recommenderArn`` (``InvalidInputException``);
  one nobody declared: ``ResourceNotFoundException`` (404); so is an undeclared
  ``filterArn`` or promotion filter;
- ``numResults`` at most the documented maximum, read from the model's documentation
  (500, or 50 with ``metadataColumns``; GetActionRecommendations 100), default 25 (5 for
  actions); ``inputList`` likewise;
- ``similar-items`` needs an ``itemId``, ``user-personalization`` a ``userId``;
  ``filterValues`` need a ``filterArn``, a promotion needs a filter; a filter the
  recommender cannot use (actions for items, items for actions, ``CurrentItem`` without
  a related-items kind), missing or extra ``filterValues``: ``InvalidInputException``.
  Filters (:mod:`._filters`) are evaluated on :attr:`Runtime.data`, which
  :meth:`Runtime.record` keeps up with every stored request; promotions and
  ``metadataColumns``: :mod:`._slates`. ``context`` is validated and recorded, not used.

>>> from personalize_sim.online import OnlineModels, RecommenderSpec
>>> runtime = Runtime([RecommenderSpec.parse("top=popularity")], OnlineModels(rng=0), rng=0)
>>> runtime.learn([("u1", "a", 1.0), ("u2", "a", 2.0), ("u2", "b", 3.0)])
>>> answer, row = runtime.answer("GetRecommendations",
...     {"recommenderArn": runtime.arns["top"], "userId": "u9", "numResults": 2})
>>> [entry["itemId"] for entry in answer["itemList"]], row[1] == runtime.arns["top"]
(['a', 'b'], True)
"""

from __future__ import annotations

import functools
import random
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from personalize_sim.online import OnlineModels, RecommenderSpec

from ._action_model import OnlineActions
from ._filters import Allowed, FilterData, FilterSpec, FilterValueError
from ._slates import max_metadata_columns, metadata_of, place, promoted_count

__all__ = [
    "RUNTIME_OPERATIONS",
    "RUNTIME_SERVICE",
    "Runtime",
    "RuntimeRefusedError",
    "documented_max",
    "runtime_of",
]

RUNTIME_SERVICE = "personalize-runtime"
RUNTIME_OPERATIONS = ("GetRecommendations", "GetPersonalizedRanking", "GetActionRecommendations")
#: "The default is 25" / "The default is 5" (the model's documentation of numResults)
_DEFAULT_RESULTS = {"GetRecommendations": 25, "GetActionRecommendations": 5}
_DEFAULT = re.compile(r"default is (\d+)")
#: a positive filter set this small is ranked on its own rather than scanned for
_WITHIN = 4096
_MAXIMUM = re.compile(r"maximum is (\d+)")


class RuntimeRefusedError(Exception):
    """The request is answered with this status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message = status, code, message


def _invalid(message: str) -> RuntimeRefusedError:
    return RuntimeRefusedError(400, "InvalidInputException", message)


def _not_found(message: str) -> RuntimeRefusedError:
    return RuntimeRefusedError(404, "ResourceNotFoundException", message)


@functools.cache
def documented_max(operation: str, member: str) -> tuple[int, int]:
    """(maximum with metadata columns, maximum without), from the member's documentation.

    The model gives ``numResults`` no ``max``; its documentation says "If you are including
    metadata in recommendations, the maximum is 50. Otherwise, the maximum is 500."

    >>> documented_max("GetRecommendations", "numResults")
    (50, 500)
    """
    from personalize_sim.limits import member_documentation

    text = member_documentation(operation, member, RUNTIME_SERVICE)
    found = [int(n) for n in _MAXIMUM.findall(text)]
    found = found * 2 if len(found) == 1 else found  # one maximum, with or without metadata
    if len(found) != 2:  # a botocore whose wording changed: fail loudly, never guess
        raise RuntimeError(f"cannot read the maxima of {operation}.{member} from botocore")
    return min(found), max(found)


class Runtime:
    """The declared campaigns and recommenders, answering from shared online models."""

    def __init__(
        self,
        specs: Sequence[RecommenderSpec],
        models: OnlineModels,
        *,
        filters: Sequence[FilterSpec] = (),
        rng: int | None = None,
    ) -> None:
        self.specs = {spec.arn: spec for spec in specs}
        self.arns = {spec.name: spec.arn for spec in specs}
        self.models = models
        self.actions = OnlineActions()
        self.filters = {spec.arn: spec for spec in filters}
        self.data = FilterData()
        self._rng = rng
        self._places = random.Random(None if rng is None else f"promotion-places-{rng}")
        # seeded apart from the emulator's request ids, so the two never coincide
        self._ids = random.Random(None if rng is None else f"recommendation-ids-{rng}")

    def reseed(self, generation: int) -> None:
        """Draw ids from the stream of a store's ``generation`` (see ``Emulator.resume``)."""
        rng = self._rng
        self._ids = random.Random(
            None if rng is None else f"recommendation-ids-{rng}/after-{generation}"
        )

    def learn(self, events: Iterable[tuple[str | None, str | None, float]]) -> None:
        """Feed (userId, itemId, sentAt) of stored events to the models, in order."""
        for user_id, item_id, at in events:
            self.models.observe(user_id, item_id, at)

    def record(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """Learn the rows a request stored (items, users, actions, action interactions,
        events), so the next filter and action answer see them."""
        self.data.record(table, rows)
        if table == "items":
            self.models.add_items(row[1] for row in rows)
        elif table == "actions":
            self.actions.add_actions(row[1] for row in rows)
        elif table == "action_interactions":
            for row in rows:
                self.actions.observe(row[1], row[4], row[5])

    def arn_of(self, request: Any) -> str | None:
        """The campaign or recommender ARN a request names (for its quota), if any."""
        if not isinstance(request, dict):
            return None
        arn = request.get("campaignArn") or request.get("recommenderArn")
        return arn if isinstance(arn, str) and arn in self.specs else None

    def answer(
        self, operation: str, request: dict[str, Any], *, issued_at: float = 0.0
    ) -> tuple[dict[str, Any], tuple[Any, ...]]:
        """The JSON answer and the ``recommendations`` row of a valid request."""
        spec = self._spec(operation, request)
        user_id, item_id = request.get("userId"), request.get("itemId")
        columns = self._columns(request)
        actions = operation == "GetActionRecommendations"
        if actions != (spec.recommends_actions):
            fix = "GetActionRecommendations needs a personalized-actions campaign"
            fix = fix if actions else "call GetActionRecommendations"
            raise _invalid(
                f"The {spec.resource} {spec.arn} is a {spec.kind} {spec.resource}; {fix}"
            )
        allowed = self._allowed(
            request.get("filterArn"), request.get("filterValues"), spec, request
        )
        keep = None if allowed is None else allowed.keep
        within = (
            allowed.ids if allowed and allowed.positive and len(allowed.ids) <= _WITHIN else None
        )
        if operation == "GetRecommendations":
            n = self._num_results(operation, request, bool(columns))
            need = spec.needs
            if need is not None and request.get(need) is None:
                raise _invalid(f"{need} is required for a {spec.kind} {spec.resource}")
            if user_id is None and item_id is None:
                raise _invalid("One of userId or itemId is required")
            entries = self._with_promotion(spec, request, n, allowed)
            if entries is None:
                found = self.models.recommend(spec.kind, user_id=user_id, item_id=item_id, n=n,
                                              keep=keep, within=within)  # fmt: skip
                entries = place(found, [], None, self._places)
            key = "itemList"
        elif actions:
            if user_id is None:
                raise _invalid("userId is required for GetActionRecommendations")
            n = self._num_results(operation, request, False)
            found = self.actions.recommend(user_id=user_id, n=n, keep=keep)
            entries = [{"actionId": a, "score": score} for a, score in found]
            key = "actionList"
        else:
            self._check_input_list(request["inputList"], bool(columns))
            found = self.models.rank(spec.kind, str(user_id), request["inputList"], keep)
            entries = place(found, [], None, self._places)
            key = "personalizedRanking"
        if columns:
            for entry in entries:
                entry["metadata"] = metadata_of(self.data.items, entry["itemId"], columns)
        rec_id = "RID-" + str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        items = [entry.get("itemId", entry.get("actionId")) for entry in entries]
        answer = {key: entries, "recommendationId": rec_id}
        import orjson

        row = (
            rec_id,
            spec.arn,
            operation,
            user_id,
            item_id,
            orjson.dumps(items).decode(),
            None if not request.get("context") else orjson.dumps(request["context"]).decode(),
            issued_at,
        )
        return answer, row

    def _spec(self, operation: str, request: dict[str, Any]) -> RecommenderSpec:
        campaign, recommender = request.get("campaignArn"), request.get("recommenderArn")
        if operation == "GetRecommendations" and (campaign is None) == (recommender is None):
            raise _invalid("Exactly one of campaignArn or recommenderArn is required")
        if operation == "GetActionRecommendations" and campaign is None:
            raise _invalid("campaignArn is required: action recommendations come from a campaign")
        arn, resource = (
            (campaign, "campaign") if campaign is not None else (recommender, "recommender")
        )
        spec = self.specs.get(str(arn))
        if spec is None or spec.resource != resource:
            known = ", ".join(a for a, s in self.specs.items() if s.resource == resource)
            raise _not_found(
                f"Could not find a {resource} with arn {arn} (declared: {known or 'none'})"
            )
        return spec

    @staticmethod
    def _num_results(operation: str, request: dict[str, Any], metadata: bool) -> int:
        n = request.get("numResults")
        if n is None:
            return _default_results(operation)
        with_metadata, without = documented_max(operation, "numResults")
        limit = with_metadata if metadata else without
        if n > limit:
            raise _invalid(
                f"1 validation error detected: Value '{n}' at 'numResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {limit}"
            )
        return int(n)

    @staticmethod
    def _columns(request: dict[str, Any]) -> list[str]:
        """``metadataColumns``: the ``ITEMS`` key only, at most the documented columns."""
        given = request.get("metadataColumns") or {}
        unknown = sorted(set(given) - {"ITEMS"})
        if unknown:
            raise _invalid(f"metadataColumns keys must be ITEMS (the Items dataset), got {unknown}")
        columns = list(given.get("ITEMS") or ())
        limit = max_metadata_columns()
        if len(columns) > limit:
            raise _invalid(f"metadataColumns.ITEMS has {len(columns)} columns; the maximum "
                           f"number of columns you can provide is {limit}")  # fmt: skip
        return columns

    def _filter(self, arn: Any, spec: RecommenderSpec, request: dict[str, Any]) -> FilterSpec:
        found = self.filters.get(str(arn))
        if found is None:
            known = ", ".join(self.filters) or "none"
            raise _not_found(f"Could not find a filter with arn {arn} (declared: {known})")
        wants = "ActionID" if spec.recommends_actions else "ItemID"
        if found.expression.target != wants:
            raise _invalid(
                f"The filter {arn} filters by {found.expression.target}; the "
                f"{spec.kind} {spec.resource} {spec.arn} recommends by {wants}"
            )
        if found.expression.uses_current_item and (
            spec.kind != "similar-items" or request.get("itemId") is None
        ):
            raise _invalid(f"The filter {arn} uses CurrentItem, which needs a related-items "
                           f"(similar-items) {spec.resource} and an itemId")  # fmt: skip
        return found

    def _allowed(
        self, arn: Any, values: Any, spec: RecommenderSpec, request: dict[str, Any]
    ) -> Allowed | None:
        if arn is None:
            if values:
                raise _invalid("filterValues are given without a filterArn")
            return None
        found = self._filter(arn, spec, request)
        try:
            return self.data.allowed(
                found, values, user_id=request.get("userId"), item_id=request.get("itemId")
            )
        except FilterValueError as error:
            raise _invalid(str(error)) from None

    def _with_promotion(
        self, spec: RecommenderSpec, request: dict[str, Any], n: int, allowed: Allowed | None
    ) -> list[dict[str, Any]] | None:
        """The slate with its promoted share (:mod:`._slates`), or None without a promotion."""
        promotions = request.get("promotions") or []
        if not promotions:
            return None
        (promotion,) = promotions  # the model allows one
        if promotion.get("filterArn") is None:
            raise _invalid("promotions[0].filterArn is required: a promotion selects its "
                           "items with a filter")  # fmt: skip
        if promotion.get("percentPromotedItems") is None:
            raise _invalid("promotions[0].percentPromotedItems is required (1 to 100)")
        if spec.kind == "random":
            raise _invalid(
                f"The {spec.resource} {spec.arn} ({spec.kind}) does not support promotions"
            )
        chosen = self._allowed(promotion["filterArn"], promotion.get("filterValues"), spec, request)
        assert chosen is not None
        k = promoted_count(n, int(promotion["percentPromotedItems"]))
        user_id, item_id = request.get("userId"), request.get("itemId")
        promoted = self.models.recommend(spec.kind, user_id=user_id, item_id=item_id, n=k,
                                         keep=chosen.keep)  # fmt: skip
        shown = {item for item, _ in promoted}

        def rest(item: str) -> bool:
            return item not in shown and (allowed is None or allowed.keep(item))

        others = self.models.recommend(spec.kind, user_id=user_id, item_id=item_id,
                                       n=n - len(promoted), keep=rest)  # fmt: skip
        return place(others, promoted, promotion.get("name"), self._places)

    @staticmethod
    def _check_input_list(items: list[str], metadata: bool) -> None:
        with_metadata, without = documented_max("GetPersonalizedRanking", "inputList")
        limit = with_metadata if metadata else without
        if len(items) > limit:
            raise _invalid(
                f"1 validation error detected: Value '{len(items)} items' at 'inputList' "
                f"failed to satisfy constraint: Member must have length less than or equal "
                f"to {limit}"
            )
        if not items:
            raise _invalid("inputList must hold at least one itemId")


def _default_results(operation: str) -> int:
    """ "The default is 25" (5 for actions), read from the model's documentation."""
    from personalize_sim.limits import member_documentation

    found = _DEFAULT.findall(member_documentation(operation, "numResults", RUNTIME_SERVICE))
    return int(found[0]) if found else _DEFAULT_RESULTS[operation]


def runtime_of(config: Any) -> Runtime:
    """The runtime API of the recommenders and filters a TrackerConfig declares, fresh."""
    models = OnlineModels(half_life=config.trending_half_life, rng=config.rng)
    specs = [RecommenderSpec.parse(spec) for spec in config.recommenders or ()]
    filters = [FilterSpec.parse(spec) for spec in config.filters or ()]
    return Runtime(specs, models, filters=filters, rng=config.rng)
