"""A metric attribution as the API defines it: metrics, expressions, limits, creation time.

Limits come from botocore's ``personalize`` model (``CreateMetricAttribution``: at most
10 metrics; name, event type, metric name and expression lengths); the 100 unique
attribution sources are a documented quota the model cannot express
(docs/reference/personalize-events.md §1.1, Developer Guide ``limits.md``).

>>> ma = MetricAttribution.from_json({
...     "name": "shop-metrics",
...     "metrics": [{"eventType": "Purchase", "metricName": "revenue",
...                  "expression": "SUM(Items.PRICE)"}]})
>>> ma.metrics[0].function, ma.metrics[0].dataset, ma.metrics[0].column
('sum', 'Items', 'PRICE')
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checks import check, instance
from ..errors import ConfigError, ConfigTypeError

__all__ = [
    "MAX_SOURCES",
    "SOURCE_NAME_UNDEFINED",
    "Metric",
    "MetricAttribution",
    "limit",
]

#: "Maximum number of unique event attribution sources: 100" (Developer Guide limits.md,
#: metric attribution quotas; docs/reference/personalize-events.md §1.1): not in the API model
MAX_SOURCES = 100
#: the source of events with neither an explicit source nor a known recommendation id
SOURCE_NAME_UNDEFINED = "SOURCE_NAME_UNDEFINED"
_OPERATION = "CreateMetricAttribution"
_SAMPLECOUNT = re.compile(r"^\s*SAMPLECOUNT\(\s*\)\s*$", re.IGNORECASE)
_SUM = re.compile(r"^\s*SUM\(\s*(Interactions|Items)\.([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", re.I)
_EXPRESSIONS = "SAMPLECOUNT() or SUM(Interactions.COLUMN) / SUM(Items.COLUMN)"


def limit(path: str) -> Any:
    """A field limit of CreateMetricAttribution from botocore's ``personalize`` model.

    >>> limit("metrics").max
    10
    """
    from .. import limits

    return limits.operation_limits(_OPERATION, "personalize").field(path)


def _text(value: Any, path: str, field: str) -> str:
    """A string within the model's length and pattern for ``path`` (named ``field``)."""
    rule = limit(path)
    instance(value, field, str, "a string")
    low = rule.min or 1
    ok = low <= len(value) <= (rule.max or len(value))
    ok = ok and (rule.regex is None or rule.regex.fullmatch(value) is not None)
    pattern = f" matching {rule.pattern}" if rule.pattern else ""
    check(ok, field, value, f"{low} to {rule.max} characters{pattern} (CreateMetricAttribution)")
    return value


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One ``MetricAttribute``: an event type, a metric name and an expression."""

    event_type: str
    metric_name: str
    expression: str
    #: parsed from ``expression``: ``samplecount`` or ``sum``; ``Interactions``/``Items``; column
    function: str = field(init=False)
    dataset: str | None = field(init=False)
    column: str | None = field(init=False)

    def __post_init__(self) -> None:
        _text(self.event_type, "metrics[].eventType", "eventType")
        _text(self.metric_name, "metrics[].metricName", "metricName")
        _text(self.expression, "metrics[].expression", "expression")
        if _SAMPLECOUNT.match(self.expression):
            parsed: tuple[str, str | None, str | None] = ("samplecount", None, None)
        elif found := _SUM.match(self.expression):
            dataset = "Items" if found.group(1).lower() == "items" else "Interactions"
            parsed = ("sum", dataset, found.group(2))
        else:
            raise ConfigError(
                f"metric {self.metric_name!r} expression", self.expression, _EXPRESSIONS
            )
        for name, value in zip(("function", "dataset", "column"), parsed, strict=True):
            object.__setattr__(self, name, value)

    def to_json(self) -> dict[str, str]:
        return {
            "eventType": self.event_type,
            "metricName": self.metric_name,
            "expression": self.expression,
        }


@dataclass(frozen=True, kw_only=True)
class MetricAttribution:
    """What ``CreateMetricAttribution`` defines, plus when it was created.

    Only events at or after ``created_at`` are reported ("Amazon Personalize won't report
    on data that you imported before you created it"); None means "before any event".
    """

    metrics: tuple[Metric, ...]
    name: str = "metric-attribution"
    created_at: dt.datetime | None = None
    dataset_group_arn: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.metrics, list):
            object.__setattr__(self, "metrics", tuple(self.metrics))
        instance(self.metrics, "metrics", tuple, "a list of Metric")
        most = limit("metrics").max
        check(
            1 <= len(self.metrics) <= most,
            "metrics",
            len(self.metrics),
            f"1 to {most} metrics per metric attribution (CreateMetricAttribution)",
        )
        for i, metric in enumerate(self.metrics):
            instance(metric, f"metrics[{i}]", Metric, "a Metric")
        names = [m.metric_name.upper() for m in self.metrics]
        check(len(set(names)) == len(names), "metrics", names, "unique metric names")
        _text(self.name, "name", "name")
        if self.dataset_group_arn is not None:
            _text(self.dataset_group_arn, "datasetGroupArn", "datasetGroupArn")
        if self.created_at is not None:
            instance(self.created_at, "created_at", dt.datetime, "a datetime (naive means UTC)")
            if self.created_at.tzinfo is None:
                object.__setattr__(self, "created_at", self.created_at.replace(tzinfo=dt.UTC))

    @classmethod
    def from_json(
        cls, source: str | Path | Mapping[str, Any], *, created_at: dt.datetime | None = None
    ) -> MetricAttribution:
        """From the JSON a ``CreateMetricAttribution`` call takes (a dict, JSON text or a
        file); ``metricsOutputConfig`` and ``datasetGroupArn`` may be left out."""
        data = _load(source)
        instance(data, "metric attribution", Mapping, "a JSON object")
        known = {"name", "datasetGroupArn", "metrics", "metricsOutputConfig"}
        unknown = sorted(set(data) - known)
        check(not unknown, unknown[0] if unknown else "", data, f"a key of {sorted(known)}")
        raw = data.get("metrics")
        instance(raw, "metrics", Sequence, "a list of {eventType, metricName, expression}")
        metrics = []
        for i, item in enumerate(raw):
            instance(item, f"metrics[{i}]", Mapping, "an object")
            missing = [k for k in ("eventType", "metricName", "expression") if k not in item]
            check(not missing, f"metrics[{i}]", item, "the keys eventType, metricName, expression")
            try:
                metrics.append(
                    Metric(
                        event_type=item["eventType"],
                        metric_name=item["metricName"],
                        expression=item["expression"],
                    )
                )
            except ConfigError as error:
                raise type(error)(
                    f"metrics[{i}].{error.field}", error.value, error.allowed
                ) from None
        return cls(
            metrics=tuple(metrics),
            name=data.get("name", "metric-attribution"),
            created_at=created_at,
            dataset_group_arn=data.get("datasetGroupArn"),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``CreateMetricAttribution`` fields this object holds."""
        out: dict[str, Any] = {"name": self.name, "metrics": [m.to_json() for m in self.metrics]}
        if self.dataset_group_arn is not None:
            out["datasetGroupArn"] = self.dataset_group_arn
        return out


def _load(source: Any) -> Any:
    if isinstance(source, Mapping):
        return source
    what = "metric attribution"
    if isinstance(source, Path) or (
        isinstance(source, str) and not source.lstrip().startswith("{")
    ):
        path = Path(source)
        if not path.is_file():
            raise ConfigError("metrics file", str(source), "an existing JSON file")
        what = f"metrics file {path}"
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(what, f"byte 0x{error.object[error.start]:02x} at offset "
                              f"{error.start}", "a JSON file in UTF-8") from None  # fmt: skip
    if not isinstance(source, str):
        raise ConfigTypeError("metric attribution", source, "a dict, JSON text or a JSON file")
    try:
        return json.loads(source)
    except json.JSONDecodeError as error:
        shown = source if len(source) <= 80 else source[:77] + "..."
        raise ConfigError(what, shown, f"valid JSON ({error.msg} at line {error.lineno})") from None
