"""⑤ Metric attribution: what Personalize would report, beside what really happened.

>>> from personalize_sim.attribution import scenario
>>> result = scenario("over-crediting").run(rng=0, users=500, days=1)
>>> row = result.effects.row("purchases")
>>> bool(row["ATTRIBUTED"] - row["INCREMENTAL"] == row["NOT_INCREMENTAL"])
True

How it is laid out (private modules; the names a user needs are exported here)::

    _metrics    MetricAttribution, Metric: the CreateMetricAttribution definition, limits
    _sources    the documented precedence: explicit source > recommender > undefined
    _report     attribution_report: per 15-minute window, metric and source
    _output     AttributionReport: tidy frame, S3 CSV layout, CloudWatch datapoints
    _effects    counterfactual_runs, true_effects: the same population with one
                recommender switched off or swapped (common random numbers)
    _scenarios  Scenario, scenario(): presets in scenarios/*.yaml, each a few lines to run
"""

from __future__ import annotations

from .._public import expose
from ._effects import (
    CounterfactualRuns,
    EffectReport,
    counterfactual_runs,
    effects_by_source,
    true_effects,
)
from ._metrics import SOURCE_NAME_UNDEFINED, Metric, MetricAttribution
from ._output import AttributionReport
from ._report import attribution_report
from ._scenarios import Scenario, ScenarioResult, scenario, scenario_names

__all__ = [
    "SOURCE_NAME_UNDEFINED",
    "AttributionReport",
    "CounterfactualRuns",
    "EffectReport",
    "Metric",
    "MetricAttribution",
    "Scenario",
    "ScenarioResult",
    "attribution_report",
    "counterfactual_runs",
    "effects_by_source",
    "scenario",
    "scenario_names",
    "true_effects",
]

expose(__name__, globals(), __all__)
