"""Where a stream's requests come from: an events frame (converted at once), a list of
requests, or an iterable of frames or requests (converted lazily, one item at a time)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .._checks import check, instance
from ..errors import ConfigTypeError, PayloadError
from ._wire import Prepared

if TYPE_CHECKING:
    import pandas as pd

    from ._checkpoint import Checkpoint
    from ._log import DeliveryLog
    from ._options import Conversion

__all__ = ["RequestSource", "prepared"]

logger = logging.getLogger("personalize_sim.streaming")

Requests = list[Mapping[str, Any]] | Iterator[Mapping[str, Any]]


class RequestSource:
    """The requests of ``source``, with ``tracking_id`` set, and the rows refused on the way."""

    def __init__(
        self,
        source: Any,
        *,
        tracking_id: str | None,
        conversion: Conversion,
        log: DeliveryLog,
    ) -> None:
        self.tracking_id = tracking_id
        self.conversion = conversion
        self.log = log
        self.problems: pd.DataFrame | None = None
        self.requests: Requests = self._read(source)

    @property
    def sized(self) -> bool:
        """True when every request is known now (a frame or a list), not read lazily."""
        return isinstance(self.requests, list)

    def _read(self, source: Any) -> Requests:
        if _is_frame(source):
            requests, self.problems = self._convert(source)
            return list(requests)
        if isinstance(source, list | tuple):
            return [self._with_tracking_id(r) for r in source]
        if isinstance(source, Iterable) and not isinstance(source, Mapping | str | bytes):
            return self._lazy(iter(source))
        raise ConfigTypeError("source", source, _SOURCE_KINDS)

    def _lazy(self, items: Iterator[Any]) -> Iterator[Mapping[str, Any]]:
        for item in items:
            if _is_frame(item):
                yield from self._convert(item)[0]
            elif isinstance(item, Mapping):
                yield self._with_tracking_id(item)
            else:
                raise ConfigTypeError(
                    "source item", item, "an events frame or a PutEvents request dict"
                )

    def _convert(self, frame: Any) -> tuple[list[dict[str, Any]], pd.DataFrame]:
        from ..payloads import to_put_events

        options = self.conversion
        check(
            self.tracking_id is not None, "tracking_id", None,
            "an events frame needs tracking_id= (the event tracker's id)",
        )  # fmt: skip
        assert self.tracking_id is not None
        requests, problems = to_put_events(
            frame, self.tracking_id, properties=options.properties,
            time_unit=options.time_unit, errors="collect",
        )  # fmt: skip
        if len(problems):
            if options.invalid == "raise":
                raise PayloadError(problems)
            rejected = len(frame) - sum(len(r["eventList"]) for r in requests)
            self.log.add_rejected(rejected)
            logger.warning(
                "%d rows fail validation and will not be sent (see handle.problems)", rejected
            )
        return requests, problems

    def _with_tracking_id(self, request: Any) -> Mapping[str, Any]:
        if type(request) is not dict:  # the usual case costs one type check per request
            instance(request, "request", Mapping, "a PutEvents request dict")
        if self.tracking_id is None or request.get("trackingId") == self.tracking_id:
            return request
        return {**request, "trackingId": self.tracking_id}


_SOURCE_KINDS = "an events frame, a list of PutEvents requests, or an iterable of frames"


def prepared(
    requests: Iterable[Mapping[str, Any]], checkpoint: Checkpoint | None, log: DeliveryLog
) -> Iterator[Prepared]:
    """Each request ready to send, skipping those an earlier run delivered (per the checkpoint)."""
    for request in requests:
        ready = Prepared(request)
        if checkpoint is not None and ready.id in checkpoint:
            log.add_resumed(1, ready.events)
            continue
        yield ready


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "columns")
