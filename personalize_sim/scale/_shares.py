"""Who sends what, and one ledger from many: the arithmetic Locust and Dask runs share.

Pure functions and frozen records, no engine imported, so they are tested directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .._checks import check, count
from ..errors import ConfigError

__all__ = ["Ledger", "replay_rates", "share_bounds", "split_rate", "users_for_rate"]

#: the ledger counts summed over shares (each a key of ``DeliverySummary.to_dict()``)
SUMMED = (
    "input_events",
    "delivered_events",
    "resumed_events",
    "dead_letter_events",
    "pending_events",
    "rejected_rows",
)


def share_bounds(total: int, index: int, workers: int, *, what: str = "requests") -> range:
    """The items ``[lo, hi)`` of worker ``index`` of ``workers``: contiguous, disjoint,
    together all ``total``, sizes differing by at most one.

    >>> [share_bounds(10, i, 3) for i in range(3)]
    [range(0, 4), range(4, 7), range(7, 10)]
    >>> share_bounds(1, 0, 2)
    Traceback (most recent call last):
    ...
    personalize_sim.errors.ConfigError: workers: got 2; at most 1: there are 1 requests to \
share, and a worker with none would have nothing to send (fewer workers, or more requests)
    """
    count(workers, "workers", low=1)
    check_enough(total, workers, what)
    count(index, "worker index", low=0)
    if index >= workers:
        raise ConfigError("worker index", index, f"below the number of workers ({workers})")
    base, extra = divmod(total, workers)
    lo = index * base + min(index, extra)
    return range(lo, lo + base + (1 if index < extra else 0))


def check_enough(total: int, workers: int, what: str) -> None:
    """A clear error when ``workers`` would share fewer than one of ``what`` each."""
    if workers > total:
        raise ConfigError(
            "workers", workers,
            f"at most {total}: there are {total} {what} to share, and a worker with none "
            f"would have nothing to send (fewer workers, or more {what})",
        )  # fmt: skip


def split_rate(rate: Any, workers: int) -> Any:
    """Each of ``workers``' share of ``rate`` (a number, or a Schedule scaled down).

    >>> split_rate(300.0, 2)
    150.0
    """
    count(workers, "workers", low=1)
    if hasattr(rate, "scaled"):
        return rate.scaled(1 / workers)
    return float(rate) / workers


def users_for_rate(rate: float, rate_per_user: float) -> int:
    """Closed-model users (each sending ``rate_per_user`` requests/s) for ``rate`` requests/s:
    at least one, rounded up so the target is reached.

    >>> users_for_rate(25, 1.0), users_for_rate(25, 2.0), users_for_rate(0, 1.0)
    (25, 13, 1)
    """
    return max(1, math.ceil(rate / rate_per_user - 1e-9))


def replay_rates(sent_at: Sequence[float], speedup: float = 1.0) -> list[float]:
    """Requests per second of wall time when requests first due at ``sent_at`` (epoch
    seconds) are replayed ``speedup`` times faster: second i is ``rates[i]``.

    >>> replay_rates([100.0, 100.5, 101.0, 104.0], speedup=2.0)
    [3.0, 0.0, 1.0]
    """
    check(len(sent_at) > 0, "sent_at", sent_at, "at least one request to replay")
    first = min(sent_at)
    seconds = [int((t - first) / speedup) for t in sent_at]
    rates = [0.0] * (max(seconds) + 1)
    for second in seconds:
        rates[second] += 1
    return rates


@dataclass(frozen=True)
class Ledger:
    """One ledger merged from many workers' (``shares``: each worker's own counts).

    Every input event ends in exactly one of: delivered (now, or ``resumed``: by an earlier
    attempt, per a checkpoint), dead-lettered, pending (in flight or waiting when a stream
    stopped), or ``unsent``: its worker died or was stopped before sending it (events in
    flight at a death are counted here: the service may hold them; a resend is harmless, as
    event ids are deterministic). ``balanced`` says the parts add up to the input.
    """

    input_events: int
    delivered_events: int
    resumed_events: int
    dead_letter_events: int
    pending_events: int
    unsent_events: int
    rejected_rows: int
    shares: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    #: what went wrong with a worker (its index and the error), one line each
    failures: tuple[str, ...] = ()

    @property
    def balanced(self) -> bool:
        parts = (
            self.delivered_events + self.resumed_events + self.dead_letter_events
            + self.pending_events + self.unsent_events
        )  # fmt: skip
        return parts == self.input_events and all(s.get("balanced", True) for s in self.shares)

    @property
    def complete(self) -> bool:
        """Every input event delivered (now or earlier) and no row rejected."""
        done = self.delivered_events + self.resumed_events
        return self.balanced and done == self.input_events and not self.rejected_rows

    @classmethod
    def merge(cls, shares: Iterable[Mapping[str, Any]], failures: Iterable[str] = ()) -> Ledger:
        """Sum the shares' counts (``DeliverySummary.to_dict()`` keys, plus ``unsent_events``).

        >>> a = dict(input_events=5, delivered_events=5)
        >>> b = dict(input_events=4, delivered_events=1, unsent_events=3)
        >>> ledger = Ledger.merge([a, b], ["worker 1: killed"])
        >>> ledger.delivered_events, ledger.unsent_events, ledger.balanced, ledger.complete
        (6, 3, True, False)
        """
        shares = tuple(shares)
        sums = {key: sum(int(s.get(key, 0)) for s in shares) for key in SUMMED}
        unsent = sum(int(s.get("unsent_events", 0)) for s in shares)
        return cls(**sums, unsent_events=unsent, shares=shares, failures=tuple(failures))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["shares"] = [dict(s) for s in self.shares]
        out["failures"] = list(self.failures)
        out.update(balanced=self.balanced, complete=self.complete)
        return out

    def __str__(self) -> str:
        state = "balanced" if self.balanced else "NOT balanced"
        return (
            f"{self.delivered_events + self.resumed_events:,} of {self.input_events:,} events "
            f"delivered ({self.resumed_events:,} by an earlier attempt), "
            f"{self.dead_letter_events:,} dead-lettered, {self.pending_events:,} pending, "
            f"{self.unsent_events:,} unsent, in {len(self.shares)} streams: {state}"
        )
