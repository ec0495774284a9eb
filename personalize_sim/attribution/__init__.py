"""⑤ Metric attribution: what Personalize would report, beside what really happened.

>>> from personalize_sim.attribution import MetricAttribution, attribution_report

How it is laid out (private modules; the names a user needs are exported here)::

    _metrics    MetricAttribution, Metric: the CreateMetricAttribution definition, limits
    _sources    the documented precedence: explicit source > recommender > undefined
    _report     attribution_report: per 15-minute window, metric and source
    _output     AttributionReport: tidy frame, S3 CSV layout, CloudWatch datapoints
"""

from __future__ import annotations

from ._metrics import MAX_SOURCES, SOURCE_NAME_UNDEFINED, Metric, MetricAttribution
from ._output import AttributionReport
from ._report import attribution_report

__all__ = [
    "MAX_SOURCES",
    "SOURCE_NAME_UNDEFINED",
    "AttributionReport",
    "Metric",
    "MetricAttribution",
    "attribution_report",
]
