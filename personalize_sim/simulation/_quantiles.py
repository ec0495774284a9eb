"""Empirical distributions as quantile tables: what :func:`fit` stores and the engine draws.

A table holds the values at evenly spaced probabilities ``0, 1/(K-1), …, 1`` (101
values: the percentiles, minimum and maximum included), so it reads and edits as plain
numbers in YAML. Drawing inverts it: linear interpolation between neighbouring values
for a continuous quantity, the nearest value for a discrete one (counts, ratings), which
keeps each atom's probability to within one step of the table.

>>> table = quantile_table(np.array([1, 1, 2, 3, 10]), points=5)
>>> table
(1.0, 1.0, 2.0, 3.0, 10.0)
>>> draw(table, np.array([0.0, 0.6, 1.0]), discrete=True)
array([ 1.,  2., 10.])
>>> draw(table, np.array([0.875]), discrete=False)
array([6.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import check, number

__all__ = ["QUANTILE_POINTS", "cdf_at", "check_table", "draw", "quantile_table"]

#: values per table: the percentiles 0, 1, …, 100
QUANTILE_POINTS = 101


def quantile_table(values: np.ndarray, points: int = QUANTILE_POINTS) -> tuple[float, ...]:
    """The values at ``points`` evenly spaced probabilities (inverted CDF, no smoothing),
    rounded to 6 significant digits (plain YAML)."""
    probs = np.linspace(0.0, 1.0, points)
    q = np.quantile(np.asarray(values, dtype=np.float64), probs, method="inverted_cdf")
    return tuple(float(f"{v:.6g}") for v in q)


def draw(table: tuple[float, ...], u: np.ndarray, *, discrete: bool) -> np.ndarray:
    """Values for uniforms ``u`` in [0, 1] (one value per uniform).

    In a table of percentiles (QUANTILE_POINTS values, as ``fit`` writes), a discrete draw
    above the 99th percentile, when the maximum is more than 1 above it (a heavy tail: 33
    and 400 sessions per user), follows a Pareto tail through the 95th and 99th percentiles,
    cut at the maximum, rather than half of it going to the maximum: a log's largest value
    is one user's, not half a percent of every run's. Elsewhere the values are atoms (a
    count that skips 2 never draws 2)."""
    q = np.asarray(table, dtype=np.float64)
    pos = np.clip(u, 0.0, 1.0) * (len(q) - 1)
    low = np.minimum(pos.astype(np.int64), len(q) - 2)
    frac = pos - low
    a, b = q[low], q[low + 1]
    if not discrete:
        return a + frac * (b - a)
    nearest = q[np.rint(pos).astype(np.int64)]
    if len(q) < QUANTILE_POINTS or not (q[-1] - q[-2] > 1 and q[-2] > 0):
        return nearest
    tail = low == len(q) - 2
    return np.where(tail, _pareto_tail(q, frac), nearest)


def _pareto_tail(q: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Values above the 99th percentile ``q[-2]`` for ``frac`` in [0, 1]: a Pareto tail whose
    index the 95th and 99th percentiles give, cut at the maximum ``q[-1]`` (log-uniform
    when they are equal)."""
    k = len(q) - 1
    p95, p99, top = q[round(0.95 * k)], q[-2], q[-1]
    cut = top / p99
    if p95 > 0 and p99 > p95:
        alpha = np.log(0.05 / 0.01) / np.log(p99 / p95)
        x = p99 * (1.0 - frac * (1.0 - cut**-alpha)) ** (-1.0 / alpha)
    else:
        x = p99 * cut**frac
    return np.rint(np.minimum(x, top))


def cdf_at(table: tuple[float, ...], x: np.ndarray, *, discrete: bool) -> np.ndarray:
    """P(value <= x) under :func:`draw` of ``table`` (used to compare tables in tests)."""
    q = np.asarray(table, dtype=np.float64)
    k = len(q) - 1
    if discrete:
        # knot i is drawn for u in [(i - 0.5)/k, (i + 0.5)/k), clipped to [0, 1]
        upper = np.minimum((np.arange(k + 1) + 0.5) / k, 1.0)
        idx = np.searchsorted(q, x, side="right") - 1
        return np.where(idx >= 0, upper[np.maximum(idx, 0)], 0.0)
    return np.interp(x, q, np.linspace(0.0, 1.0, k + 1), left=0.0, right=1.0)


def check_table(values: Any, field: str, *, low: float = 0.0) -> tuple[float, ...]:
    """A quantile table: at least two non-decreasing numbers >= ``low``."""
    ok = isinstance(values, list | tuple) and len(values) >= 2
    check(ok, field, values, "a list of at least two quantiles (non-decreasing numbers)")
    table = tuple(number(v, f"{field}[{i}]", low=low) for i, v in enumerate(values))
    decreasing = next((i for i in range(1, len(table)) if table[i] < table[i - 1]), None)
    check(
        decreasing is None,
        f"{field}[{decreasing}]",
        table[decreasing or 0],
        f"a value >= the one before ({table[(decreasing or 1) - 1]:g}): quantiles never decrease",
    )
    return table
