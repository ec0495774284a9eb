"""The Personalize runtime API of the emulator: ``GetRecommendations``, ``GetPersonalizedRanking``.

:class:`Runtime` answers a request body already checked against botocore's
``personalize-runtime`` model (by :mod:`._emulator`, which also applies the per-ARN
quota and the fault plan): it finds the declared campaign or recommender, asks its
:class:`~personalize_sim.online.OnlineModels` kind, mints a fresh ``recommendationId``
and returns the JSON answer with the row the store keeps (who issued the id, which
items it showed). :meth:`Runtime.learn` feeds the models every event the tracker
stored, so the next answer already reflects it.

Rules the model cannot carry, each answered as the service does:

- exactly one of ``campaignArn`` / ``recommenderArn`` (``InvalidInputException``);
  one nobody declared: ``ResourceNotFoundException`` (404); so is any ``filterArn``
  (no filters are declared in the emulator) and a promotion's filter;
- ``numResults`` at most the documented maximum, read from the model's documentation
  (500, or 50 with ``metadataColumns``), default 25; ``inputList`` likewise;
- ``similar-items`` needs an ``itemId``, ``user-personalization`` a ``userId``;
  ``filterValues`` need a ``filterArn``. ``context`` is validated and recorded, not used.

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

__all__ = [
    "RUNTIME_OPERATIONS",
    "RUNTIME_SERVICE",
    "Runtime",
    "RuntimeRefusedError",
    "documented_max",
]

RUNTIME_SERVICE = "personalize-runtime"
RUNTIME_OPERATIONS = ("GetRecommendations", "GetPersonalizedRanking")
#: "The default is 25" (the model's documentation of numResults)
_DEFAULT_RESULTS = 25
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
    if len(found) != 2:  # a botocore whose wording changed: fail loudly, never guess
        raise RuntimeError(f"cannot read the maxima of {operation}.{member} from botocore")
    return min(found), max(found)


class Runtime:
    """The declared campaigns and recommenders, answering from shared online models."""

    def __init__(
        self, specs: Sequence[RecommenderSpec], models: OnlineModels, *, rng: int | None = None
    ) -> None:
        self.specs = {spec.arn: spec for spec in specs}
        self.arns = {spec.name: spec.arn for spec in specs}
        self.models = models
        self._rng = rng
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
        _check_filters(request)
        user_id, item_id = request.get("userId"), request.get("itemId")
        metadata = bool(request.get("metadataColumns"))
        if operation == "GetRecommendations":
            n = self._num_results(request, metadata)
            need = spec.needs
            if need is not None and request.get(need) is None:
                raise _invalid(f"{need} is required for a {spec.kind} {spec.resource}")
            if user_id is None and item_id is None:
                raise _invalid("One of userId or itemId is required")
            found = self.models.recommend(spec.kind, user_id=user_id, item_id=item_id, n=n)
            key = "itemList"
        else:
            self._check_input_list(request["inputList"], metadata)
            found = self.models.rank(spec.kind, str(user_id), request["inputList"])
            key = "personalizedRanking"
        rec_id = "RID-" + str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        items = [item for item, _ in found]
        answer = {
            # 7 decimals as the service gives them (scores are >= 0: half up, without round())
            key: [{"itemId": item, "score": int(score * 1e7 + 0.5) / 1e7} for item, score in found],
            "recommendationId": rec_id,
        }
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
    def _num_results(request: dict[str, Any], metadata: bool) -> int:
        n = request.get("numResults")
        if n is None:
            return _DEFAULT_RESULTS
        with_metadata, without = documented_max("GetRecommendations", "numResults")
        limit = with_metadata if metadata else without
        if n > limit:
            raise _invalid(
                f"1 validation error detected: Value '{n}' at 'numResults' failed to satisfy "
                f"constraint: Member must have value less than or equal to {limit}"
            )
        return int(n)

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


def _check_filters(request: dict[str, Any]) -> None:
    """The emulator declares no filters: any filter ARN is unknown."""
    filters = [request.get("filterArn")]
    filters += [p.get("filterArn") for p in request.get("promotions") or ()]
    for arn in filters:
        if arn is not None:
            raise _not_found(f"Could not find a filter with arn {arn} (the emulator has none)")
    if request.get("filterValues") and request.get("filterArn") is None:
        raise _invalid("filterValues are given without a filterArn")
