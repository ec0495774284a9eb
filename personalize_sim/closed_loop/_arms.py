"""Where the closed loop's slates come from: the online models in-process, or a runtime API.

:class:`OnlineArms` (offline fast mode) calls :class:`~personalize_sim.online.OnlineModels`
in this process, minting ``recommendationId``\\ s the way the emulator does and
remembering their issuer (:meth:`OnlineArms.recommendations`). :class:`RuntimeArms`
calls any boto3 ``personalize-runtime`` client (the emulator's, or a real campaign or
recommender on AWS) and sends each session's events back with a ``personalize-events``
client; a throttled or failing call is retried as ``retry`` (duck-typed as
``streaming.RetryPolicy``: ``decide(attempt=, status=, error_code=, elapsed=, rng=)``)
decides, and counted.

>>> arms = OnlineArms({"A": "popularity", "B": "random"}, rng=0)
>>> sorted(arms.arns)
['A', 'B']
>>> items, rec_id = arms.slate("A", "u1", 3, 0.0)
>>> issuers = arms.recommendations()["RECOMMENDER_ARN"].tolist()
>>> items, rec_id.startswith("RID-"), issuers == [arms.arns["A"]]
([], True, True)
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import limits
from ..errors import ConfigError, SlateFailedError
from ..online import OnlineModels, RecommenderSpec
from ._driver import LoopEvent

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["OnlineArms", "RuntimeArms", "loop_requests"]


class OnlineArms:
    """Arms served in-process: ``kinds`` maps an arm name to a kind (``popularity``…),
    or to ``NAME=KIND`` as the emulator declares it (so the ARNs are the emulator's)."""

    def __init__(
        self,
        kinds: Mapping[str, str],
        *,
        models: OnlineModels | None = None,
        rng: int | None = None,
        half_life: float = 3600.0,
    ) -> None:
        self.specs = {
            arm: RecommenderSpec.parse(kind if "=" in kind else f"{arm}={kind}")
            for arm, kind in kinds.items()
        }
        self.arns = {arm: spec.arn for arm, spec in self.specs.items()}
        self.models = models or OnlineModels(rng=rng, half_life=half_life)
        self._ids = random.Random(None if rng is None else f"recommendation-ids-{rng}")
        self._issued: list[tuple[str, str, list[str]]] = []

    def slate(self, arm: str, user_id: str, n: int, at: float) -> tuple[list[str], str]:
        spec = self.specs[arm]
        found = self.models.recommend(spec.kind, user_id=user_id, n=n)
        items = [item for item, _ in found]
        rec_id = "RID-" + str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
        self._issued.append((rec_id, spec.arn, items))
        return items, rec_id

    def feedback(self, events: Sequence[LoopEvent]) -> None:
        for event in events:
            self.models.observe(event.user_id, event.item_id, event.at)

    def recommendations(self) -> pd.DataFrame:
        """RECOMMENDATION_ID, RECOMMENDER_ARN, ITEMS of every slate issued, in order."""
        import pandas as pd

        ids, arns, items = zip(*self._issued, strict=True) if self._issued else ((), (), ())
        return pd.DataFrame(
            {"RECOMMENDATION_ID": list(ids), "RECOMMENDER_ARN": list(arns), "ITEMS": list(items)}
        )


class RuntimeArms:
    """Arms served by a ``personalize-runtime`` client: ``arns`` maps arm name to ARN.

    ``events_client`` (a ``personalize-events`` client) with ``tracking_id`` receives each
    session's events (up to 10 a call), so the recommender can learn; without it the
    loop only reads. ``retry`` retries throttled, 5xx and connection failures of both
    calls (default: one attempt); ``sleep`` waits between attempts (injectable).
    ``filters`` names an arm's filter: its ARN, or (ARN, ``filterValues``); ``promotions``
    an arm's promotion (the API's ``Promotion``: ``name``, ``percentPromotedItems``,
    ``filterArn``, ``filterValues``); :attr:`promoted` keeps, per recommendation id, the
    items the service marked with ``promotionName``. ``attempts``, ``retries`` and
    ``failures`` count what happened.
    """

    def __init__(
        self,
        runtime_client: Any,
        arns: Mapping[str, str],
        *,
        events_client: Any = None,
        tracking_id: str | None = None,
        retry: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: int | None = None,
        filters: Mapping[str, str | tuple[str, Mapping[str, str]]] | None = None,
        promotions: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.client, self.arns = runtime_client, dict(arns)
        self.extra = {arm: _extra(arm, (filters or {}).get(arm), (promotions or {}).get(arm))
                      for arm in self.arns}  # fmt: skip
        unknown = sorted((set(filters or {}) | set(promotions or {})) - set(self.arns))
        if unknown:
            raise ConfigError("filters/promotions", unknown, f"arms of {sorted(self.arns)}")
        self.promoted: dict[str, list[str]] = {}
        self.events_client, self.tracking_id = events_client, tracking_id
        self.retry, self.sleep = retry, sleep
        self._rng = random.Random(rng)
        self.counts = {"attempts": 0, "retries": 0, "failed_slates": 0, "failed_puts": 0}

    def slate(self, arm: str, user_id: str, n: int, at: float) -> tuple[list[str], str]:
        arn = self.arns[arm]
        key = "campaignArn" if ":campaign/" in arn else "recommenderArn"
        try:
            answer = self._call(
                lambda: self.client.get_recommendations(
                    **{key: arn}, userId=user_id, numResults=n, **self.extra[arm]
                )
            )
        except SlateFailedError:
            self.counts["failed_slates"] += 1
            raise
        entries, rec_id = answer["itemList"], answer["recommendationId"]
        promoted = [entry["itemId"] for entry in entries if entry.get("promotionName")]
        if promoted:
            self.promoted[rec_id] = promoted
        return [entry["itemId"] for entry in entries], rec_id

    def feedback(self, events: Sequence[LoopEvent]) -> None:
        if self.events_client is None:
            return
        for request in loop_requests(events, self.tracking_id):
            self._put(request)

    def _put(self, request: dict[str, Any]) -> None:
        """One PutEvents call, retried; given up on, it is counted (``failed_puts``)."""
        try:
            self._call(functools.partial(self.events_client.put_events, **request))
        except SlateFailedError:
            self.counts["failed_puts"] += 1

    def _call(self, call: Callable[[], Any]) -> Any:
        """``call()``, retried as the policy decides; SlateFailedError when it gives up."""
        from botocore.exceptions import BotoCoreError, ClientError

        began, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            self.counts["attempts"] += 1
            try:
                return call()
            except ClientError as exc:
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                code = exc.response.get("Error", {}).get("Code", "ClientError")
            except BotoCoreError:  # no answer: refused, reset, timed out
                status, code = None, "ConnectionError"
            if self.retry is None:
                raise SlateFailedError(code, attempt)
            decision = self.retry.decide(
                attempt=attempt, status=status, error_code=code,
                elapsed=time.monotonic() - began, rng=self._rng.getrandbits(32),
            )  # fmt: skip
            if getattr(decision.action, "value", decision.action) != "retry":
                raise SlateFailedError(code, attempt)
            self.counts["retries"] += 1
            self.sleep(decision.delay)


def _extra(arm: str, chosen: Any, promotion: Any) -> dict[str, Any]:
    """The GetRecommendations members naming an arm's filter and promotion."""
    extra: dict[str, Any] = {}
    if chosen is not None:
        arn, values = (chosen, None) if isinstance(chosen, str) else chosen
        if not isinstance(arn, str):
            raise ConfigError(f"filters[{arm}]", chosen, "a filter ARN or (ARN, filterValues)")
        extra["filterArn"] = arn
        if values:
            extra["filterValues"] = dict(values)
    if promotion is not None:
        extra["promotions"] = [dict(promotion)]
    return extra


def loop_requests(events: Sequence[LoopEvent], tracking_id: str | None) -> list[dict[str, Any]]:
    """The PutEvents requests (``put_events`` kwargs) carrying ``events``, in order."""
    return [
        {
            "trackingId": tracking_id,
            "userId": user_id,
            "sessionId": session_id,
            "eventList": [_wire(event) for event in batch],
        }
        for user_id, session_id, batch in _batches(events)
    ]


def _batches(events: Sequence[LoopEvent]) -> list[tuple[str, str, list[LoopEvent]]]:
    """Events grouped by (user, session) in order, at most 10 a group (PutEvents' limit)."""
    most = limits.operation_limits("PutEvents").field("eventList").max or 1
    out: list[tuple[str, str, list[LoopEvent]]] = []
    for event in events:
        last = out[-1] if out else None
        if last and (last[0], last[1]) == (event.user_id, event.session_id) and len(last[2]) < most:
            last[2].append(event)
        else:
            out.append((event.user_id, event.session_id, [event]))
    return out


def _wire(event: LoopEvent) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "eventId": event.event_id,
        "eventType": event.event_type,
        "itemId": event.item_id,
        "sentAt": event.at,
    }
    if event.recommendation_id is not None:
        entry["recommendationId"] = event.recommendation_id
    if event.impression:
        limit = limits.operation_limits("PutEvents").field("eventList[].impression").max or 0
        if len(event.impression) > limit:
            raise ConfigError("slate_size", len(event.impression),
                              f"at most {limit} items: PutEvents' impression limit")  # fmt: skip
        entry["impression"] = list(event.impression)
    return entry
