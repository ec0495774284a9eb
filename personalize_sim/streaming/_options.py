"""The rarely tuned knobs of a stream, grouped in small frozen objects (the common ones stay
flat arguments of :func:`open_stream`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .._checks import check, count, one_of, positive
from .._timestamps import TimeUnit
from ..payloads.internal import DATASET_OPERATIONS

__all__ = ["Conversion", "Pacing"]

#: what a frame may hold (``payloads.internal.dataset_type`` names them)
DATASETS = tuple(DATASET_OPERATIONS)


@dataclass(frozen=True, kw_only=True)
class Pacing:
    """How hard the sender may push.

    ``max_in_flight`` requests on the wire at once; a send more than ``max_lag`` seconds
    behind its slot counts as *missed* (the client, not the service, limited the rate) and
    the schedule slips instead of bursting.

    >>> Pacing(max_in_flight=0)
    Traceback (most recent call last):
    ...
    personalize_sim.errors.ConfigError: max_in_flight: got 0; an integer >= 1
    """

    max_in_flight: int = 64
    max_lag: float = 1.0

    def __post_init__(self) -> None:
        count(self.max_in_flight, "max_in_flight", low=1)
        object.__setattr__(self, "max_lag", positive(self.max_lag, "max_lag"))


@dataclass(frozen=True, kw_only=True)
class Conversion:
    """How frames become requests (the options of :func:`~personalize_sim.to_put_events`, and
    of ``to_put_items`` … ``to_put_action_interactions`` for the other datasets).

    ``invalid="raise"`` refuses a frame with any bad row (nothing is sent); ``"skip"``
    sends the valid rows and reports the others in ``handle.problems``. ``properties``
    names the property columns; ``time_unit`` is the unit of numeric ``TIMESTAMP``s.
    ``dataset`` says what a frame holds (``interactions``, ``items``, ``users``,
    ``actions``, ``action_interactions``; by default read from its columns:
    ``payloads.internal.dataset_type``); items, users and actions go to the
    datasets of ``dataset_group_arn`` (``arn:aws:personalize:REGION:ACCOUNT:dataset-group/NAME``).
    """

    invalid: Literal["raise", "skip"] = "raise"
    properties: Sequence[str] | None = None
    time_unit: TimeUnit | None = None
    dataset: str | None = None
    dataset_group_arn: str | None = None

    def __post_init__(self) -> None:
        one_of(self.invalid, "invalid", ("raise", "skip"))
        if self.dataset is not None:
            one_of(self.dataset, "dataset", DATASETS)
        if self.dataset_group_arn is not None:
            from ..payloads.internal import dataset_arn

            dataset_arn(self.dataset_group_arn, "items")  # its form, checked now
        if self.properties is not None:
            check(
                not isinstance(self.properties, str), "properties", self.properties,
                "a list of column names",
            )  # fmt: skip
            object.__setattr__(self, "properties", tuple(self.properties))
        if self.time_unit is not None:
            one_of(self.time_unit, "time_unit", ("s", "ms", "us", "ns"))
