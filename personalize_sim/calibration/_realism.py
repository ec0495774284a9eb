"""``realism_report``: how close synthetic traffic is to a real log, number by number.

One row per distribution, each with the distance that suits it: two-sample
Kolmogorov–Smirnov (KS) for the continuous and count ones, total variation (TV) for
profiles and categories, the relative difference for the popularity curve's top-1%
share (the events on the most popular 1% of the items the real log shows, on both
sides: the same number of items). Both logs are read the same way
(:func:`~._interactions.read_interactions`): split into sessions
by the same rule (SESSION_ID when both have it, else the inactivity gap), synthetic
times floored to the real log's resolution (whole seconds for epoch seconds, so that
events logged in the same second compare as gaps of 0 on both sides).

>>> from personalize_sim.simulation import simulate
>>> a = simulate("retail", users=300, days=2, rng=1, start="2026-01-05")
>>> b = simulate("retail", users=300, days=2, rng=2, start="2026-01-05")
>>> report = realism_report(a.assign(USER_ID=a.true_user_id), b.assign(USER_ID=b.true_user_id))
>>> list(report.table.columns)
['distribution', 'metric', 'distance', 'tolerance', 'passed', 'n_real', 'n_synthetic']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import instance, number
from .._sessions import DEFAULT_SESSION_GAP
from ..errors import ConfigError
from ._distances import ks_distance, total_variation
from ._fit_time import local_hour_weekday
from ._interactions import Interactions, read_interactions
from ._per_user import (
    events_per_user,
    hour_concentration,
    item_counts,
    items_per_user,
    repeat_share,
    sessions_length_correlation,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_TOLERANCES", "RealismReport", "Sample", "realism_report"]

#: distance each row must stay within to pass (override with ``tolerances=``)
DEFAULT_TOLERANCES: dict[str, float] = {
    "sessions_per_user": 0.05,
    "events_per_session": 0.05,
    "gaps_in_session": 0.05,
    "idle_gaps": 0.05,
    "hourly_profile": 0.05,
    "weekday_profile": 0.05,
    "top_1pct_share": 0.10,
    "event_types": 0.05,
    "transitions": 0.05,
    "event_values": 0.05,
    "events_per_user": 0.05,
    "items_per_user": 0.05,
    "repeat_share": 0.02,
    "sessions_vs_length": 0.15,
    "hour_concentration": 0.05,
    "item_popularity": 0.05,
    "worst_transition": 0.10,
}
_METRIC = {
    "ks": "KS", "tv": "TV", "rel": "relative difference", "abs": "absolute difference",
    "worst": "largest difference",
}  # fmt: skip
#: departures a funnel state needs on both sides to count in ``worst_transition``
WORST_MIN_DEPARTURES = 100


@dataclass(frozen=True, eq=False)
class Sample:
    """What a row compares: two samples (``kind="ks"``) or two histograms (``"tv"``)."""

    kind: str
    real: np.ndarray
    synthetic: np.ndarray
    #: histogram bar labels (hours, weekdays, event types); empty for samples
    labels: tuple[str, ...] = ()
    #: what a scalar row (``"abs"``) was measured on: events or users, real and synthetic
    sizes: tuple[int, int] = (0, 0)
    #: a ``"worst"`` row: the departures a state needs, on each side, to count
    min_count: int = 0


@dataclass(frozen=True, eq=False)
class RealismReport:
    """The table (one row per distribution) and the samples behind each row.

    ``plots.realism(report)`` overlays real and synthetic for every row.
    """

    table: pd.DataFrame
    samples: Mapping[str, Sample] = field(repr=False)
    timezone: str = "UTC"

    @property
    def passed(self) -> bool:
        """Every row within its tolerance."""
        return bool(self.table["passed"].all())

    def failures(self) -> list[str]:
        return [str(d) for d in self.table.loc[~self.table["passed"], "distribution"]]

    def _repr_html_(self) -> str:
        return str(self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}"))

    def __str__(self) -> str:
        return str(self.table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def realism_report(
    real: Any,
    synthetic: Any,
    *,
    timezone: str = "UTC",
    session_gap: float | None = None,
    tolerances: Mapping[str, float] | None = None,
    event_type: str = "Event",
) -> RealismReport:
    """Compare two events frames (see the module docstring); ``timezone`` is where the
    hourly and weekday profiles are read; ``tolerances`` overrides DEFAULT_TOLERANCES."""
    from ..simulation import TimeConfig

    TimeConfig(timezone=timezone)
    limits = dict(DEFAULT_TOLERANCES)
    for key, value in (tolerances or {}).items():
        if key not in limits:
            raise ConfigError(f"tolerances.{key}", value, f"one of {', '.join(limits)}")
        limits[key] = number(value, f"tolerances.{key}", low=0.0)
    instance(event_type, "event_type", str, "an event type name")
    gap = session_gap
    if gap is None and not (_has_sessions(real) and _has_sessions(synthetic)):
        gap = DEFAULT_SESSION_GAP
    a = read_interactions(_frame(real, "real"), session_gap=gap, event_type=event_type)
    b = read_interactions(_frame(synthetic, "synthetic"), session_gap=gap, event_type=event_type)
    b = _floored(b, _resolution_us(a.ts))
    samples = _samples(a, b, timezone)
    rows = []
    for name, sample in samples.items():
        key = "event_values" if name.startswith("values:") else name
        distance = _distance(name, sample)
        n_real, n_syn = _sizes(sample)
        tolerance = limits[key]
        rows.append(
            {
                "distribution": name,
                "metric": _METRIC[sample.kind],
                "distance": distance,
                "tolerance": tolerance,
                "passed": bool(distance <= tolerance),
                "n_real": n_real,
                "n_synthetic": n_syn,
            }
        )
    import pandas as pd

    return RealismReport(table=pd.DataFrame(rows), samples=samples, timezone=timezone)


def _frame(frame: Any, name: str) -> Any:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(name, type(frame).__name__, "a pandas DataFrame of events")
    return frame


def _has_sessions(frame: Any) -> bool:
    return "SESSION_ID" in getattr(frame, "columns", ())


def _resolution_us(ts: np.ndarray) -> int:
    """The coarsest of 1 s, 1 ms, 1 µs that divides every timestamp."""
    for step in (1_000_000, 1_000):
        if not np.any(ts % step):
            return step
    return 1


def _floored(log: Interactions, step: int) -> Interactions:
    if step == 1 or not np.any(log.ts % step):
        return log
    import dataclasses

    return dataclasses.replace(log, ts=log.ts - log.ts % step)


def _samples(a: Interactions, b: Interactions, timezone: str) -> dict[str, Sample]:
    out: dict[str, Sample] = {
        "sessions_per_user": Sample("ks", _per_user(a), _per_user(b)),
        "events_per_session": Sample("ks", _lengths(a), _lengths(b)),
        "gaps_in_session": Sample("ks", _gaps(a), _gaps(b)),
        "idle_gaps": Sample("ks", _idle(a), _idle(b)),
    }
    ha, wa = local_hour_weekday(a.ts[a.session_first], timezone)
    hb, wb = local_hour_weekday(b.ts[b.session_first], timezone)
    hours = tuple(str(h) for h in range(24))
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    out["hourly_profile"] = Sample(
        "tv", np.bincount(ha, minlength=24), np.bincount(hb, minlength=24), hours
    )
    out["weekday_profile"] = Sample(
        "tv", np.bincount(wa, minlength=7), np.bincount(wb, minlength=7), days
    )
    out["top_1pct_share"] = Sample("rel", _rank_shares(a), _rank_shares(b))
    names = tuple(dict.fromkeys(a.type_names + b.type_names))
    ca, cb = _type_counts(a, names), _type_counts(b, names)
    if len(names) > 1:
        out["event_types"] = Sample("tv", ca, cb, names)
        ta, tb = _transitions(a, names), _transitions(b, names)
        out["transitions"] = Sample("tv", ta, tb)
        out["worst_transition"] = Sample(
            "worst", ta, tb, (*names, "exit"), min_count=WORST_MIN_DEPARTURES
        )
    for name in names:
        va, vb = _values(a, name), _values(b, name)
        if len(va) and len(vb):
            out[f"values:{name}"] = Sample("ks", va, vb)
    out.update(_user_samples(a, b, (ha, hb)))
    return out


def _user_samples(
    a: Interactions, b: Interactions, hours: tuple[np.ndarray, np.ndarray]
) -> dict[str, Sample]:
    """The rows that look at users (and items) rather than at events one at a time."""
    pairs = (a, b)
    concentration = [
        hour_concentration(h, log.session_user) for h, log in zip(hours, pairs, strict=True)
    ]
    return {
        "events_per_user": Sample("ks", events_per_user(a), events_per_user(b)),
        "items_per_user": Sample("ks", items_per_user(a), items_per_user(b)),
        "repeat_share": Sample(
            "abs",
            np.array([repeat_share(a)]),
            np.array([repeat_share(b)]),
            sizes=(len(a.user), len(b.user)),
        ),
        "sessions_vs_length": Sample(
            "abs",
            np.array([sessions_length_correlation(a)]),
            np.array([sessions_length_correlation(b)]),
            sizes=(len(events_per_user(a)), len(events_per_user(b))),
        ),
        "hour_concentration": Sample("ks", concentration[0], concentration[1]),
        "item_popularity": Sample("ks", item_counts(a), item_counts(b)),
    }


def _distance(name: str, sample: Sample) -> float:
    if sample.kind == "ks":
        return ks_distance(sample.real, sample.synthetic)
    if sample.kind == "rel":
        # the same number of items on both sides: 1% of the items the real log shows
        top = max(1, round(0.01 * len(sample.real)))
        real, syn = top_share(sample.real, top), top_share(sample.synthetic, top)
        return abs(syn - real) / real if real > 0 else float("nan")
    if sample.kind == "abs":
        return float(abs(sample.synthetic[0] - sample.real[0]))
    if sample.kind == "worst":
        return worst_transition(sample.real, sample.synthetic)
    if name == "transitions":
        return _transition_tv(sample.real, sample.synthetic)
    return total_variation(sample.real, sample.synthetic)


def worst_transition(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference of one transition probability, over the states each side
    leaves at least WORST_MIN_DEPARTURES times (0 when none does)."""
    rows_a, rows_b = a.sum(axis=1), b.sum(axis=1)
    kept = (rows_a >= WORST_MIN_DEPARTURES) & (rows_b >= WORST_MIN_DEPARTURES)
    if not kept.any():
        return 0.0
    pa = a[kept] / rows_a[kept, None]
    pb = b[kept] / rows_b[kept, None]
    return float(np.abs(pa - pb).max())


def _sizes(sample: Sample) -> tuple[int, int]:
    if sample.kind == "abs":
        return sample.sizes
    if sample.kind == "ks" or sample.kind == "rel":
        return len(sample.real), len(sample.synthetic)
    return int(np.sum(sample.real)), int(np.sum(sample.synthetic))


def top_share(shares: np.ndarray, top: int) -> float:
    """Share of events on the ``top`` most popular items (``shares`` sorted, descending)."""
    return float(shares[:top].sum())


def _per_user(log: Interactions) -> np.ndarray:
    counts = np.bincount(log.session_user, minlength=log.n_users)
    return counts[counts > 0]


def _lengths(log: Interactions) -> np.ndarray:
    return log.session_last - log.session_first + 1


def _gaps(log: Interactions) -> np.ndarray:
    same = np.diff(log.session) == 0
    return np.diff(log.ts)[same] / 1e6


def _idle(log: Interactions) -> np.ndarray:
    first, last = log.session_first, log.session_last
    same_user = np.diff(log.session_user) == 0
    return ((log.ts[first[1:]] - log.ts[last[:-1]]) / 1e6)[same_user]


def _rank_shares(log: Interactions) -> np.ndarray:
    counts = np.sort(np.bincount(log.item, minlength=log.n_items))[::-1].astype(np.float64)
    return counts / counts.sum()


def _type_counts(log: Interactions, names: tuple[str, ...]) -> np.ndarray:
    counts = np.bincount(log.etype, minlength=len(log.type_names))
    return np.array([counts[log.type_names.index(n)] if n in log.type_names else 0 for n in names])


def _transitions(log: Interactions, names: tuple[str, ...]) -> np.ndarray:
    """(from, to or exit) counts in ``names`` order; exit is the last column."""
    k = len(names)
    code = np.array([names.index(n) for n in log.type_names])[log.etype]
    same = np.diff(log.session) == 0
    table = np.zeros((k, k + 1))
    np.add.at(table, (code[:-1][same], code[1:][same]), 1.0)
    np.add.at(table, (code[log.session_last], k), 1.0)
    return table


def _transition_tv(a: np.ndarray, b: np.ndarray) -> float:
    """TV between the rows, weighted by how often the real log leaves each type."""
    rows_a, rows_b = a.sum(axis=1), b.sum(axis=1)
    weights = rows_a / max(rows_a.sum(), 1.0)
    tv = [
        total_variation(a[i], b[i]) if rows_a[i] > 0 and rows_b[i] > 0 else 1.0
        for i in range(len(a))
    ]
    return float(np.sum(weights * np.asarray(tv)))


def _values(log: Interactions, name: str) -> np.ndarray:
    if name not in log.type_names:
        return np.empty(0)
    values = log.value[log.etype == log.type_names.index(name)]
    return values[~np.isnan(values)]
