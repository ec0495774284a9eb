"""Latency percentiles: one HDR-histogram wrapper for the stream's log and the emulator's counters.

>>> h = LatencyHistogram()
>>> for ms in (1, 2, 3, 4, 100):
...     h.record(ms / 1000)
>>> s = h.summary()
>>> s.count, s.p50, s.max  # 3 significant digits: the top of each value's bucket
(5, 3.001, 100.031)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PERCENTILES", "LatencyHistogram", "LatencySummary"]

#: the percentiles every summary reports
PERCENTILES = (50.0, 90.0, 99.0, 99.9)
#: an hour, in microseconds: anything slower is clamped, never lost
MAX_US = 3_600 * 1_000_000


@dataclass(frozen=True)
class LatencySummary:
    """Latencies in milliseconds: count, mean, percentiles and max (NaN when empty)."""

    count: int
    mean: float = math.nan
    p50: float = math.nan
    p90: float = math.nan
    p99: float = math.nan
    p999: float = math.nan
    max: float = math.nan

    def describe(
        self, keys: tuple[str, ...] = ("p50", "p90", "p99"), *, named: bool = False
    ) -> str:
        """The percentiles ``keys`` in ms, one decimal, "–" where unknown.

        >>> LatencySummary(count=2, p50=1.25, p90=2.0, p99=3.5).describe()
        '1.2 / 2.0 / 3.5'
        >>> LatencySummary(count=0).describe(("p50", "p99.9"), named=True)
        'p50 –, p99.9 –'
        """
        values = {"p99.9": self.p999}
        shown = []
        for key in keys:
            value = values[key] if key in values else getattr(self, key)
            text = f"{value:.1f}" if math.isfinite(value) else "–"
            shown.append(f"{key} {text}" if named else text)
        return (", " if named else " / ").join(shown)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON: ``p999`` is spelled ``p99.9`` and NaN becomes None."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            out["p99.9" if key == "p999" else key] = (
                None if isinstance(value, float) and math.isnan(value) else value
            )
        return out


class LatencyHistogram:
    """An HDR histogram of latencies (1 µs to 1 h, 3 significant digits); mergeable."""

    def __init__(self) -> None:
        from hdrh.histogram import HdrHistogram

        self._h = HdrHistogram(1, MAX_US, 3)
        self._sum_us = 0  # hdrh's own mean walks every bucket in Python: keep ours running

    def record(self, seconds: float) -> None:
        us = min(max(int(seconds * 1_000_000), 1), MAX_US)
        self._h.record_value(us)
        self._sum_us += us

    def record_many(self, seconds: Sequence[float]) -> None:
        """Record every value, as :meth:`record` would one at a time, at numpy speed.

        Values are first rounded down to the lowest value of their HDR bucket (3
        significant digits: 11 bits of sub-bucket), which the histogram cannot tell
        apart, so each distinct bucket costs one ``record_value`` call instead of each value.
        """
        import numpy as np

        us = np.clip((np.asarray(seconds, dtype=np.float64) * 1_000_000).astype(np.int64),
                     1, MAX_US)  # fmt: skip
        if not len(us):
            return
        self._sum_us += int(us.sum())
        shift = np.maximum(np.floor(np.log2(us)).astype(np.int64) + 1 - 11, 0)
        buckets, counts = np.unique((us >> shift) << shift, return_counts=True)
        record = self._h.record_value
        for value, n in zip(buckets.tolist(), counts.tolist(), strict=True):
            record(value, n)

    def merge(self, other: LatencyHistogram) -> None:
        self._h.add(other._h)
        self._sum_us += other._sum_us

    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    @property
    def total(self) -> float:
        """The sum of every recorded latency, in seconds."""
        return self._sum_us / 1_000_000

    def summary(self) -> LatencySummary:
        n = self.count
        if n == 0:
            return LatencySummary(count=0)
        p50, p90, p99, p999 = (self._h.get_value_at_percentile(p) / 1000 for p in PERCENTILES)
        return LatencySummary(
            count=n,
            mean=self._sum_us / n / 1000,
            p50=p50,
            p90=p90,
            p99=p99,
            p999=p999,
            max=self._h.get_max_value() / 1000,
        )
