"""The binned series the delivery plots draw, read a chunk of the log at a time.

A long run's log does not fit in memory as a frame (10M attempts are several GB), so a
:class:`~personalize_sim.streaming.DeliveryLog` or a handle is read straight from its Arrow
spill, a batch of the needed columns at a time, in two passes: the first keeps the send
times of first attempts (8 bytes each), the second adds every attempt to per-bin counts and
latency histograms. A DataFrame is read in chunks the same way.

**Achieved rate.** Counting sends per bin draws a sawtooth under a flat target whenever a
bin holds a fraction of a send (25/s in 0.5 s bins: 12 or 13 sends, 24 or 26 per second).
Instead each send stands for the interval until the next one: the cumulative count of
units sent grows linearly between sends, and a bin's rate is its growth over the bin's
width. An exact schedule then draws a flat line; a stall draws a dip as wide as the gap.
``counts`` keeps the raw first sends per bin.

**Latency percentiles** come from per-bin histograms with buckets 1 % apart (values within
0.5 %), so memory does not grow with the log.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._checks import check, one_of, positive
from ..errors import ConfigTypeError
from ._figures import _require

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Series", "default_bin_width", "series"]

#: the delivery-log columns the series reads (see personalize_sim.streaming's records)
COLUMNS = ("attempt", "events", "sent", "target_rate", "intended", "finished", "outcome",
           "error_code")  # fmt: skip
_NUMBERS = ("attempt", "events", "sent", "target_rate", "intended", "finished")
#: rows of a DataFrame read at once
_CHUNK = 1_000_000
#: latency buckets: 0 for ≤ _LOW ms, then each 1 % wider than the last
_LOW = 1e-3
_STEP = 1.01
_BUCKETS = 4096  # up to _LOW · 1.01**4095 ≈ 5e14 ms: every latency a run can have

#: bin widths (s) the plots choose from: the smallest that gives at most _MAX_BINS bins
_BIN_WIDTHS = (0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 300.0, 600.0, 3600.0)
_MAX_BINS = 60
_SENDS_PER_BIN = 10


@dataclass(frozen=True)
class Series:
    """Binned series drawn by the delivery plots (the dashboard draws them too).

    ``edges`` are the bin edges in seconds since the stream started (``len(edges) - 1``
    bins); every other array has one value per bin, as a rate per second or in
    milliseconds (NaN where nothing happened).
    """

    edges: np.ndarray
    target: np.ndarray  # mean target rate of the first sends in the bin
    achieved: np.ndarray  # units sent per second, each send spread to the next (see above)
    counts: np.ndarray  # first sends in the bin (raw, in ``unit``)
    intended: dict[str, np.ndarray]  # "p50", "p90", "p99" (ms, delivered requests)
    service: dict[str, np.ndarray]  # "p50", "p99" (ms, every attempt)
    errors: dict[str, np.ndarray]  # error code -> failed attempts per second
    unit: str = "requests"

    @property
    def centers(self) -> np.ndarray:
        return (self.edges[:-1] + self.edges[1:]) / 2


def default_bin_width(duration: float, sends: int | None = None) -> float:
    """A round bin width giving at most 60 bins over ``duration`` seconds.

    With ``sends`` (first attempts over that time), bins are also wide enough to hold about
    ten sends on average, so a jittery stream's line is not mostly noise.
    """
    for width in _BIN_WIDTHS:
        enough = sends is None or duration <= 0 or sends * width / duration >= _SENDS_PER_BIN
        if duration / width <= _MAX_BINS and enough:
            return width
    return max(duration / _MAX_BINS, _BIN_WIDTHS[-1])


def series(log: Any, *, unit: str | None = None, bin_width: float | None = None) -> Series:
    """The binned :class:`Series` of a delivery log (frame, ``DeliveryLog`` or handle), in
    memory that does not grow with the log when it is a ``DeliveryLog`` or a handle.

    ``bin_width`` is the bin width in seconds (default: a round width giving at most 60 bins).
    """
    import numpy as np

    chunks, unit, capacity = _source(log, unit)
    # pass 1: the first sends' times (and units, counting events), the span of the log; into
    # one buffer sized for the log: 8 bytes a send, no list of chunks to join
    sends = np.empty(capacity)
    weights = np.empty(capacity) if unit == "events" else None
    n_sends = rows = 0
    start, end = math.inf, -math.inf
    for c in chunks():
        rows += len(c["sent"])
        start = min(start, float(c["sent"].min()))
        end = max(end, float(c["finished"].max()))
        first = c["attempt"] == 1
        k = int(first.sum())
        if n_sends + k > len(sends):  # the log grew since it was sized
            sends = np.resize(sends, 2 * (n_sends + k))
            weights = None if weights is None else np.resize(weights, len(sends))
        sends[n_sends : n_sends + k] = c["sent"][first]
        if weights is not None:
            weights[n_sends : n_sends + k] = c["events"][first]
        n_sends += k
    check(rows > 0, "log", log, "a delivery log with rows to plot")
    sends = sends[:n_sends]
    if weights is None:
        sends.sort()
    else:
        order = np.argsort(sends, kind="stable")
        sends, weights = sends[order], np.cumsum(weights[:n_sends][order])
        del order
    rate_known = n_sends > 1 and sends[-1] > sends[0]  # one send (or one burst) is no rate
    stop = start
    if n_sends:
        # the last send stands for the interval a send took lately: the median of the last gaps
        latest = np.unique(sends[-1000:])
        stop = float(latest[-1] + (np.median(np.diff(latest)[-10:]) if len(latest) > 1 else 0.0))
        start, end = min(start, float(sends[0])), max(end, stop)
    if bin_width is None:
        bin_width = default_bin_width(end - start, n_sends)
    else:
        bin_width = positive(bin_width, "bin_width")
    n = max(math.ceil((end - start) / bin_width), 1)  # a time on the last edge: the last bin
    edges = start + bin_width * np.arange(n + 1)

    # the rate: the cumulative units sent, linear from each send to the next, at the edges
    achieved = np.full(n, np.nan)
    if rate_known:
        sending = edges[:-1] < stop
        right = np.minimum(edges[1:], stop)
        grown = _sent_by(right, sends, weights, stop) - _sent_by(edges[:-1], sends, weights, stop)
        achieved[sending] = grown[sending] / (right - edges[:-1])[sending]
    del sends, weights

    # pass 2: everything else, per bin
    counts = np.zeros(n)
    target_sum, target_n = np.zeros(n), np.zeros(n)
    intended_h, service_h = _Histograms(n), _Histograms(n)
    errors: dict[str, np.ndarray] = {}
    left = rows  # rows logged since pass 1 are left out: both passes read the same log
    for c in chunks():
        if left <= 0:
            break
        if len(c["sent"]) > left:
            c = {k: v[:left] for k, v in c.items()}
            c["codes"] = c["codes"][: int(c["failed"].sum())]
        left -= len(c["sent"])
        b_sent = _bins(c["sent"], start, bin_width, n)
        b_done = _bins(c["finished"], start, bin_width, n)
        first = c["attempt"] == 1
        counts += np.bincount(b_sent[first], weights=c["events"][first] if unit == "events"
                              else None, minlength=n)  # fmt: skip
        rates = c["target_rate"]
        known = first & np.isfinite(rates)
        target_sum += np.bincount(b_sent[known], weights=rates[known], minlength=n)
        target_n += np.bincount(b_sent[known], minlength=n)
        delivered = c["delivered"]
        intended_h.add(b_done[delivered], (c["finished"] - c["intended"])[delivered] * 1000)
        service_h.add(b_done, (c["finished"] - c["sent"]) * 1000)
        failed_bins, codes = b_sent[c["failed"]], c["codes"]
        for code in np.unique(codes):
            hits = np.bincount(failed_bins[codes == code], minlength=n).astype("float64")
            errors[str(code)] = errors.get(str(code), 0.0) + hits
    target = np.full(n, np.nan)
    np.divide(target_sum, target_n, out=target, where=target_n > 0)
    if np.isfinite(target).any():  # the target holds through bins where nothing was sent
        filled = np.maximum.accumulate(np.where(np.isfinite(target), np.arange(n), 0))
        target = target[filled]
        target[: np.argmax(np.isfinite(target))] = target[np.argmax(np.isfinite(target))]
    return Series(
        edges, target, achieved, counts,
        intended_h.percentiles((50, 90, 99)), service_h.percentiles((50, 99)),
        {code: errors[code] / bin_width for code in sorted(errors)}, unit,
    )  # fmt: skip


def _sent_by(
    points: np.ndarray, sends: np.ndarray, cumulative: np.ndarray | None, stop: float
) -> np.ndarray:
    """Units sent by each point, linear from each send time to the next (the last to
    ``stop``): the sends at one time (a burst) count over the interval until the next.

    ``sends`` are sorted; ``cumulative`` the running total of their units (None: one each)."""
    import numpy as np

    n = len(sends)

    def through(i: np.ndarray) -> np.ndarray:  # units of the first i sends
        if cumulative is None:
            return i.astype("float64")
        return np.where(i > 0, cumulative[np.maximum(i - 1, 0)], 0.0)

    j = np.searchsorted(sends, points, "right")  # sends at or before each point
    last = sends[np.maximum(j - 1, 0)]
    burst = np.searchsorted(sends, last, "left")  # where the last one's burst began
    following = np.where(j < n, sends[np.minimum(j, n - 1)], stop)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip((points - last) / (following - last), 0.0, 1.0)
    share = np.where(following > last, share, 1.0)
    sent = through(burst) + (through(j) - through(burst)) * share
    return np.where(j > 0, sent, 0.0)


def _bins(times: np.ndarray, start: float, width: float, n: int) -> np.ndarray:
    import numpy as np

    return np.clip(((times - start) // width).astype("int64"), 0, n - 1)


class _Histograms:
    """A latency histogram per bin (buckets 1 % apart), kept sparse: (bin, bucket) → count."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.keys: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []

    def add(self, bins: np.ndarray, ms: np.ndarray) -> None:
        import numpy as np

        if not len(ms):
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            bucket = np.floor(np.log(np.maximum(ms, _LOW) / _LOW) / math.log(_STEP)) + 1
        bucket = np.where(ms > _LOW, np.minimum(bucket, _BUCKETS - 1), 0).astype("int64")
        keys, counts = np.unique(bins * _BUCKETS + bucket, return_counts=True)
        self.keys.append(keys)
        self.counts.append(counts)
        if len(self.keys) > 64:  # merge now and then: memory stays at the buckets in use
            self.keys, self.counts = [self._merged()[0]], [self._merged()[1]]

    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        if not self.keys:
            return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
        keys, inverse = np.unique(np.concatenate(self.keys), return_inverse=True)
        return keys, np.bincount(inverse, weights=np.concatenate(self.counts)).astype("int64")

    def percentiles(self, pcts: tuple[float, ...]) -> dict[str, np.ndarray]:
        """Per bin, each percentile as numpy's default (linear between closest ranks)."""
        import numpy as np

        out = {f"p{p:g}": np.full(self.n, np.nan) for p in pcts}
        keys, counts = self._merged()
        bins, buckets = keys // _BUCKETS, keys % _BUCKETS
        values = np.where(buckets == 0, 0.0, _LOW * _STEP ** (buckets - 0.5))
        if not len(keys):
            return out
        starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        for begin, stop in zip(starts, np.r_[starts[1:], len(keys)], strict=True):
            cum = np.cumsum(counts[begin:stop])
            for p in pcts:
                rank = p / 100 * (cum[-1] - 1)
                low, high = np.searchsorted(cum, [math.floor(rank), math.ceil(rank)], "right")
                v = values[begin:stop]
                out[f"p{p:g}"][bins[begin]] = v[low] + (v[high] - v[low]) * (rank % 1)
        return out


def _source(log: Any, unit: str | None) -> tuple[Callable[[], Iterator[dict[str, Any]]], str, int]:
    """A way to read the log's needed columns a chunk at a time, its unit and its rows."""
    import pandas as pd

    if isinstance(log, pd.DataFrame):
        unit = one_of(unit or "requests", "unit", ("requests", "events"))
        _require(log, COLUMNS, "a delivery log", hint="pass handle.log, the frame of a stream")
        return (lambda: (_from_frame(log.iloc[i : i + _CHUNK])
                         for i in range(0, len(log), _CHUNK))), unit, len(log)  # fmt: skip
    delivery_log = getattr(log, "delivery_log", log)  # a StreamHandle has one
    if not callable(getattr(delivery_log, "reader", None)) or not hasattr(delivery_log, "unit"):
        raise ConfigTypeError(
            "log", log, "handle.log (a DataFrame), a DeliveryLog or a StreamHandle"
        )
    unit = one_of(unit or delivery_log.unit or "requests", "unit", ("requests", "events"))
    read = delivery_log.reader(COLUMNS)
    return (lambda: map(_from_batch, read())), unit, delivery_log.kept


def _from_frame(frame: Any) -> dict[str, Any]:
    chunk = {name: frame[name].to_numpy(dtype="float64") for name in _NUMBERS}
    chunk["delivered"] = (frame["outcome"] == "delivered").to_numpy(dtype=bool)
    codes = frame["error_code"].astype("string").fillna("").to_numpy(dtype=object)
    chunk["failed"] = codes != ""
    chunk["codes"] = codes[chunk["failed"]]
    return chunk


def _from_batch(batch: Any) -> dict[str, Any]:
    import pyarrow.compute as pc

    chunk = {name: batch.column(name).to_numpy().astype("float64") for name in _NUMBERS}
    chunk["delivered"] = _bools(pc.equal(batch.column("outcome"), "delivered"))
    codes = pc.fill_null(batch.column("error_code"), "")
    failed = pc.not_equal(codes, "")
    chunk["failed"] = _bools(failed)
    chunk["codes"] = pc.filter(codes, failed).to_numpy(zero_copy_only=False)
    return chunk


def _bools(array: Any) -> Any:
    return array.to_numpy(zero_copy_only=False).astype(bool)
