"""True effects: the same simulated population with one recommender switched off or swapped.

Both runs use common random numbers (``exposure.common_random_numbers``): the same
users, arrivals, funnels and organic choices; only the slates of one arm differ. The
difference of a metric between the runs is the recommender's incremental effect, exact
for this sample; beside it stands what last-touch attribution credits the recommender
with, and their ratio. An arm's ``lift`` is the configured true effect: each click on
its slate adds an event of ``lift_event_type`` with that probability, so the expected
incremental count is ``lift × clicks`` (a binomial interval is given).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import instance, probability
from ..errors import ConfigError
from ._metrics import Metric, MetricAttribution
from ._output import AttributionReport
from ._report import TimeFilter, _epoch_us, _values, attribution_report

if TYPE_CHECKING:
    import pandas as pd

    from ..simulation import SimulationConfig

__all__ = [
    "CounterfactualRuns",
    "EffectReport",
    "counterfactual_runs",
    "effects_by_source",
    "true_effects",
]

#: two-sided confidence of the intervals reported
CONFIDENCE = 0.99


@dataclass(frozen=True, eq=False)
class CounterfactualRuns:
    """A factual and a counterfactual frame of one population (common random numbers)."""

    factual: pd.DataFrame
    counterfactual: pd.DataFrame
    config: SimulationConfig
    counterfactual_config: SimulationConfig
    arm: str
    #: the seed both runs used (a Generator given as ``rng`` is drawn from once)
    rng: int | None


def counterfactual_runs(
    config: SimulationConfig | str,
    *,
    arm: str,
    recommender: str | Callable[..., Any] = "none",
    lift: float | None = None,
    rng: np.random.Generator | int | None = None,
    **overrides: Any,
) -> CounterfactualRuns:
    """Simulate ``config`` twice: as configured, and with ``arm``'s recommender replaced
    by ``recommender`` (``"none"`` switches it off) and, optionally, its ``lift`` changed.

    >>> runs = counterfactual_runs("retail", arm="popular", users=200, days=1, rng=3,
    ...                            start="2026-01-05")
    >>> factual, counterfactual = runs.factual, runs.counterfactual
    >>> bool((factual["SESSION_ID"].unique() == counterfactual["SESSION_ID"].unique()).all())
    True
    """
    from ..simulation import SimulationConfig, simulate

    if isinstance(config, str):
        config = SimulationConfig.preset(config)
    instance(config, "config", SimulationConfig, "a SimulationConfig or a preset name")
    config = config.replace(exposure__common_random_numbers=True, **overrides)
    names = [a.name for a in config.exposure.arms]
    if arm not in names:
        raise ConfigError("arm", arm, f"one of the arms: {', '.join(names)}")
    index = names.index(arm)
    spec = config.exposure.arms[index]
    changed = dataclasses.replace(
        spec,
        recommender=recommender,
        lift=spec.lift if lift is None else probability(lift, "lift"),
    )
    arms = tuple(changed if i == index else a for i, a in enumerate(config.exposure.arms))
    other = config.replace(exposure__arms=arms)
    seed = config.rng if rng is None else rng
    if isinstance(seed, np.random.Generator):  # both runs need the same root entropy
        seed = int(seed.integers(0, 2**63))
    return CounterfactualRuns(
        factual=simulate(config, rng=seed),
        counterfactual=simulate(other, rng=seed),
        config=config,
        counterfactual_config=other,
        arm=arm,
        rng=seed,
    )


@dataclass(frozen=True, eq=False)
class EffectReport:
    """Per metric, for one arm: what attribution credits it with and what it really did.

    ``table`` columns: ``METRIC_NAME``, ``SOURCE`` (the arm's source in the report),
    ``ATTRIBUTED``, ``INCREMENTAL`` (factual − counterfactual total), ``RATIO``
    (attributed / incremental), ``INCREMENTAL_SE`` (from the per-session paired
    differences), ``NOT_INCREMENTAL`` (ground truth: the attributed value of events
    that would have happened anyway), ``CLICKS`` and ``CLICKS_COUNTERFACTUAL`` (the
    arm's clicks in each run), ``EXPECTED``, ``EXPECTED_LOW``, ``EXPECTED_HIGH`` (the
    configured lift × clicks, factual minus counterfactual, and its binomial interval,
    for a SAMPLECOUNT of the lift's event type; NaN otherwise).
    """

    table: pd.DataFrame
    factual: AttributionReport
    counterfactual: AttributionReport
    runs: CounterfactualRuns

    def row(self, metric: str) -> pd.Series:
        """The row of one metric."""
        rows = self.table[self.table["METRIC_NAME"] == metric]
        if rows.empty:
            raise ConfigError("metric", metric, f"one of {list(self.table['METRIC_NAME'])}")
        return rows.iloc[0]


def true_effects(
    config: SimulationConfig | str,
    attribution: MetricAttribution,
    *,
    arm: str,
    recommender: str | Callable[..., Any] = "none",
    lift: float | None = None,
    rng: np.random.Generator | int | None = None,
    now: dt.datetime | None = None,
    items: pd.DataFrame | None = None,
    runs: CounterfactualRuns | None = None,
    **overrides: Any,
) -> EffectReport:
    """Attributed beside incremental value of ``arm`` for each metric of ``attribution``.

    ``now`` defaults to one second after the last simulated event; ``items`` to the
    simulation's catalog (``simulation.catalog_items``). Pass ``runs`` to reuse a pair of
    :func:`counterfactual_runs`.
    """
    from ..simulation import catalog_items

    instance(attribution, "attribution", MetricAttribution, "a MetricAttribution")
    if runs is None:
        runs = counterfactual_runs(
            config, arm=arm, recommender=recommender, lift=lift, rng=rng, **overrides
        )
    cfg = runs.config
    if now is None:
        last = max(runs.factual["TIMESTAMP"].max(), runs.counterfactual["TIMESTAMP"].max())
        now = (last + dt.timedelta(seconds=1)).to_pydatetime()
    if items is None and any(m.dataset == "Items" for m in attribution.metrics):
        items = catalog_items(cfg, rng=runs.rng)
    factual = attribution_report(runs.factual, attribution, items=items, now=now)
    counter = attribution_report(runs.counterfactual, attribution, items=items, now=now)
    spec = next(a for a in cfg.exposure.arms if a.name == runs.arm)
    source = spec.attribution_source or spec.arn
    rows = [
        _effect_row(metric, source, spec, runs, factual, counter, items)
        for metric in attribution.metrics
    ]
    import pandas as pd

    return EffectReport(
        table=pd.DataFrame(rows), factual=factual, counterfactual=counter, runs=runs
    )


def _effect_row(
    metric: Metric,
    source: str,
    spec: Any,
    runs: CounterfactualRuns,
    factual: AttributionReport,
    counter: AttributionReport,
    items: pd.DataFrame | None,
) -> dict[str, Any]:
    name = metric.metric_name
    attributed = factual.total(name, source)
    incremental = factual.total(name) - counter.total(name)
    per_f = _counted_values(runs.factual, metric, factual, items)
    per_c = _counted_values(runs.counterfactual, metric, counter, items)
    se = _paired_se(runs.factual, per_f, runs.counterfactual, per_c)
    f = runs.factual
    of_arm = _clicked_rows(f, runs.arm)
    not_incremental = float(per_f[of_arm & _credited(f, source, runs)].sum())
    clicks = _clicks(f, of_arm, factual)
    clicks_c = _clicks(runs.counterfactual, _clicked_rows(runs.counterfactual, runs.arm), counter)
    expected = low = high = math.nan
    lift_cf = next(a for a in runs.counterfactual_config.exposure.arms if a.name == runs.arm)
    counts_lift = metric.function == "samplecount" and metric.event_type == spec.lift_event_type
    if counts_lift:
        p_f, p_c = spec.lift, lift_cf.lift
        expected = p_f * clicks - p_c * clicks_c
        z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
        spread = z * math.sqrt(clicks * p_f * (1 - p_f) + clicks_c * p_c * (1 - p_c))
        low, high = expected - spread, expected + spread
    return {
        "METRIC_NAME": name,
        "SOURCE": source,
        "ATTRIBUTED": attributed,
        "INCREMENTAL": incremental,
        "RATIO": attributed / incremental if incremental else math.inf,
        "INCREMENTAL_SE": se,
        "NOT_INCREMENTAL": not_incremental,
        "CLICKS": clicks,
        "CLICKS_COUNTERFACTUAL": clicks_c,
        "EXPECTED": expected,
        "EXPECTED_LOW": low,
        "EXPECTED_HIGH": high,
    }


def _credited(frame: pd.DataFrame, source: str, runs: CounterfactualRuns) -> np.ndarray:
    """Events the report credits to ``source``: explicit source, else the arm's id."""
    explicit = frame["EVENT_ATTRIBUTION_SOURCE"]
    has = explicit.notna().to_numpy()
    return np.where(has, (explicit == source).fillna(False).to_numpy(dtype=bool), True)


def _counted_values(
    frame: pd.DataFrame, metric: Metric, report: AttributionReport, items: pd.DataFrame | None
) -> np.ndarray:
    """Each event's contribution to ``metric`` in ``report`` (0 where not counted)."""
    ts = _epoch_us(frame["TIMESTAMP"])
    of_type = (frame["EVENT_TYPE"] == metric.event_type).to_numpy(dtype=bool)
    values = _values(metric, frame, of_type, items)
    kept = _in_window(ts, report)
    counted = of_type & kept & ~np.isnan(values)
    return np.where(counted, values, 0.0)


def _in_window(ts: np.ndarray, report: AttributionReport) -> np.ndarray:
    return TimeFilter(ts, created=report.attribution.created_at, now=report.now).kept


def _paired_se(
    factual: pd.DataFrame, per_f: np.ndarray, counter: pd.DataFrame, per_c: np.ndarray
) -> float:
    """Standard error of the total difference, from per-session paired differences."""
    import pandas as pd

    a = pd.Series(per_f).groupby(factual["SESSION_ID"].to_numpy()).sum()
    b = pd.Series(per_c).groupby(counter["SESSION_ID"].to_numpy()).sum()
    d = a.sub(b, fill_value=0.0).to_numpy()
    if len(d) < 2:
        return math.nan
    return float(math.sqrt(len(d)) * np.std(d, ddof=1))


def _clicked_rows(frame: pd.DataFrame, arm: str) -> np.ndarray:
    """The arm's events that follow a click, except those a lift added."""
    rows = (frame["arm"].astype(str) == arm).to_numpy()
    rows = rows & frame["RECOMMENDATION_ID"].notna().to_numpy()
    return rows & ~frame["incremental"].to_numpy(dtype=bool)


def _clicks(frame: pd.DataFrame, of_arm: np.ndarray, report: AttributionReport) -> int:
    """The arm's clicks (distinct RECOMMENDATION_IDs) whose first event is reported."""
    rows = frame.loc[of_arm, ["RECOMMENDATION_ID", "TIMESTAMP"]]
    first = rows.groupby("RECOMMENDATION_ID", sort=False, observed=True)["TIMESTAMP"].min()
    if first.empty:
        return 0
    return int(_in_window(_epoch_us(first), report).sum())


def effects_by_source(
    config: SimulationConfig | str,
    attribution: MetricAttribution,
    *,
    rng: np.random.Generator | int | None = None,
    now: dt.datetime | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """:func:`true_effects` of every arm that recommends (each switched off in turn),
    as one frame with an ``ARM`` column: per source, attributed beside incremental.

    >>> frame = effects_by_source("retail", MetricAttribution.from_json({"metrics": [
    ...     {"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"}]}),
    ...     rng=1, users=200, days=1, start="2026-01-05")
    >>> frame[["ARM", "SOURCE"]].values.tolist()
    [['popular', 'most-popular'], ['personalized', 'recommended-for-you']]
    >>> frame["INCREMENTAL"].tolist()  # a recommender changes which items are viewed, not how many
    [0.0, 0.0]
    """
    import pandas as pd

    from ..simulation import SimulationConfig

    if isinstance(config, str):
        config = SimulationConfig.preset(config)
    instance(config, "config", SimulationConfig, "a SimulationConfig or a preset name")
    if isinstance(rng, np.random.Generator):  # every run needs the same root entropy
        rng = int(rng.integers(0, 2**63))
    frames = [
        true_effects(config, attribution, arm=arm.name, rng=rng, now=now, **overrides).table.assign(
            ARM=arm.name
        )
        for arm in config.exposure.arms
        if arm.recommender != "none"
    ]
    out = pd.concat(frames, ignore_index=True)
    return out[["ARM", *[c for c in out.columns if c != "ARM"]]]
