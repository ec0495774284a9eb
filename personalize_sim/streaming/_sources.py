"""Where a stream's requests come from: a frame of any dataset (converted at once), a list of
requests of any write operation, or an iterable of frames or requests (converted lazily, one
item at a time)."""

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
        from .. import _operations as operations
        from .. import payloads
        from ..payloads.internal import dataset_arn, dataset_type

        options = self.conversion
        dataset = options.dataset or dataset_type(frame)
        if dataset in ("items", "users", "actions"):
            check(
                options.dataset_group_arn is not None, "conversion", options,
                f"a {dataset} frame needs Conversion(dataset_group_arn=…) (its dataset's group)",
            )  # fmt: skip
            convert = getattr(payloads, f"to_put_{dataset}")
            arn = dataset_arn(options.dataset_group_arn, dataset)  # type: ignore[arg-type]
            requests, problems = convert(frame, arn, errors="collect")
        else:
            check(
                self.tracking_id is not None, "tracking_id", None,
                f"an {dataset} frame needs tracking_id= (the event tracker's id)",
            )  # fmt: skip
            assert self.tracking_id is not None
            if dataset == "interactions":
                requests, problems = payloads.to_put_events(
                    frame, self.tracking_id, properties=options.properties,
                    time_unit=options.time_unit, errors="collect",
                )  # fmt: skip
            else:
                requests, problems = payloads.to_put_action_interactions(
                    frame, self.tracking_id, errors="collect"
                )
        if len(problems):
            if options.invalid == "raise":
                raise PayloadError(problems, what=f"{dataset} frame")
            sent = sum(
                len(r[operations.request_list(operations.operation_of(r))]) for r in requests
            )
            rejected = len(frame) - sent
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
        if "datasetArn" in request:  # PutItems, PutUsers, PutActions carry no tracking id
            return request
        return {**request, "trackingId": self.tracking_id}


_SOURCE_KINDS = (
    "a frame of a dataset, a list of requests (PutEvents, PutItems…), or an iterable of frames"
)


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
