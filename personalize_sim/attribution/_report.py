"""What Personalize's metric attribution would report for a set of events.

Per 15-minute window, per metric and per source: ``SAMPLECOUNT()`` counts events of
the metric's type, ``SUM(Interactions.COL)`` / ``SUM(Items.COL)`` adds a numeric column
of the events or of their items. Events before the attribution's creation time, or 14
days old or older at ``now``, are not reported (and are counted as such). Windows start
at multiples of 900 s since the epoch: the alignment of the real service is not
documented (docs/reference/personalize-events.md §4, **[unverified]**).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import factorized, instance, one_of
from ..errors import ConfigError, ConfigTypeError
from ._metrics import MAX_SOURCES, SOURCE_NAME_UNDEFINED, Metric, MetricAttribution
from ._output import AttributionReport
from ._sources import recommendation_map, resolve_sources

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_AGE", "WINDOW_SECONDS", "attribution_report"]

#: "Amazon Personalize aggregates calculations over a 15-minute window" (DG event-metrics)
WINDOW_SECONDS = 900
#: "To publish metrics to CloudWatch, records must be less than 14 days old" (DG)
MAX_AGE = dt.timedelta(days=14)
_US = 1_000_000


def attribution_report(
    frame: pd.DataFrame,
    attribution: MetricAttribution,
    *,
    items: pd.DataFrame | None = None,
    recommenders: Any = None,
    now: dt.datetime | None = None,
    unmapped: str = "undefined",
) -> AttributionReport:
    """The metric-attribution report of ``frame`` (an events frame, simulated or read
    back with ``tracker.events()``).

    ``items`` is the items dataset (``ITEM_ID`` + the columns ``SUM(Items.COL)`` adds,
    ``simulation.catalog_items`` for a simulation); a simulated frame, a tracker's events
    and the closed loop's carry the issuer of each id in ``RECOMMENDER_ARN``, and are
    credited to it as the service credits the ids it issued; ``recommenders`` maps
    RECOMMENDATION_ID to the recommender's ARN for other logs (a dict, a Series, or a
    frame such as ``tracker.recommendations()``; an id it names wins); ``now`` is when
    the report is made (default: the current time; the 14-day cut-off counts back from
    it: pass the end of a simulated window, or nothing is reported).
    An id no recommender issued is credited to SOURCE_NAME_UNDEFINED and counted
    (``unmapped="error"`` raises instead).

    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "EVENT_TYPE": ["Purchase", "Purchase", "View"],
    ...     "TIMESTAMP": pd.to_datetime(["2026-01-05 10:01", "2026-01-05 10:16",
    ...                                  "2026-01-05 10:02"], utc=True),
    ...     "RECOMMENDATION_ID": ["r1", "r1", None]})
    >>> ma = MetricAttribution.from_json({"metrics": [{"eventType": "Purchase",
    ...     "metricName": "buys", "expression": "SAMPLECOUNT()"}]})
    >>> report = attribution_report(frame, ma, recommenders={"r1": "arn:rec/top"},
    ...                             now=dt.datetime(2026, 1, 6, tzinfo=dt.UTC))
    >>> report.s3()[["METRIC_NAME", "VALUE", "EVENT_ATTRIBUTION_SOURCE", "TIMESTAMP"]]
      METRIC_NAME  VALUE EVENT_ATTRIBUTION_SOURCE   TIMESTAMP
    0        BUYS    1.0              arn:rec/top  1767607200
    1        BUYS    1.0              arn:rec/top  1767608100
    """
    import pandas as pd

    instance(frame, "frame", pd.DataFrame, "an events DataFrame")
    instance(attribution, "attribution", MetricAttribution, "a MetricAttribution")
    one_of(unmapped, "unmapped", ("undefined", "error"))
    now = _now(now)
    created = attribution.created_at
    if created is not None and created > now:
        raise ConfigError(
            "attribution.created_at",
            created.isoformat(),
            f"a time at or before now ({now.isoformat()}): nothing is reported before it",
        )
    for column in ("EVENT_TYPE", "TIMESTAMP"):
        if column not in frame.columns:
            raise ConfigError("frame", frame, f"an events frame with a {column} column")
    ts = _epoch_us(frame["TIMESTAMP"])
    etype_codes, uniques = factorized(frame["EVENT_TYPE"], "events.EVENT_TYPE")
    etypes = [str(t) for t in uniques]
    _check_event_types(attribution.metrics, etypes, len(frame))
    sources = resolve_sources(frame, recommendation_map(recommenders))
    if unmapped == "error" and sources.unmapped.any():
        row = int(np.flatnonzero(sources.unmapped)[0])
        raise ConfigError(
            f"row {frame.index[row]!r} RECOMMENDATION_ID",
            frame["RECOMMENDATION_ID"].iloc[row],
            f"an id in recommenders ({int(sources.unmapped.sum())} events carry unknown ids)",
        )
    time = TimeFilter(ts, created=created, now=now)
    windows = _Windows(ts, time.kept, len(sources.names))
    tables, counts = [], []
    for metric in attribution.metrics:
        code = etypes.index(metric.event_type) if metric.event_type in etypes else -1
        of_type = np.asarray(etype_codes) == code
        values = _values(metric, frame, of_type, items)
        missing = of_type & time.kept & np.isnan(values)
        counted = of_type & time.kept & ~missing
        cells = windows.add(counted, sources.codes, values)
        _check_finite(metric, cells[1])
        tables.append((metric, *cells))
        counts.append(
            {
                "METRIC_NAME": metric.metric_name,
                "EVENT_TYPE": metric.event_type,
                "events": int(of_type.sum()),
                "counted": int(counted.sum()),
                "before_creation": int((of_type & time.before).sum()),
                "older_than_14_days": int((of_type & time.old).sum()),
                "after_now": int((of_type & time.future).sum()),
                "missing_value": int(missing.sum()),
                "undefined_source": int((counted & (sources.codes == sources.undefined)).sum()),
                "unmapped_recommendation_id": int((counted & sources.unmapped).sum()),
            }
        )
    tidy = _tidy(tables, sources.names, windows.first)
    _check_source_count(tidy)
    return AttributionReport(
        table=tidy, counts=pd.DataFrame(counts), attribution=attribution, now=now
    )


class TimeFilter:
    """Which events the service reports: at or after creation, under 14 days old at
    ``now``, not after ``now``; each event left out is so for the first reason only."""

    def __init__(self, ts: np.ndarray, *, created: dt.datetime | None, now: dt.datetime):
        now_us = _as_us(now)
        if created is None:
            self.before = np.zeros(len(ts), dtype=bool)
        else:
            self.before = ts < _as_us(created)
        self.old = ~self.before & (ts <= now_us - int(MAX_AGE.total_seconds()) * _US)
        self.future = ts > now_us
        self.kept = ~(self.before | self.old | self.future)


class _Windows:
    """Sums and counts per (15-minute window, source) with one ``bincount`` per metric:
    the windows kept span at most 14 days, so the (window × source) grid stays small."""

    def __init__(self, ts: np.ndarray, kept: np.ndarray, n_sources: int) -> None:
        self.index = ts // (WINDOW_SECONDS * _US)
        self.first = int(self.index[kept].min()) if kept.any() else 0
        last = int(self.index[kept].max()) if kept.any() else 0
        self.n_sources = n_sources
        self.size = (last - self.first + 1) * n_sources

    def add(
        self, counted: np.ndarray, sources: np.ndarray, values: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cells with events (window offset × n_sources + source), their sums and counts."""
        key = (self.index[counted] - self.first) * self.n_sources + sources[counted]
        sums = np.bincount(key, weights=values[counted], minlength=self.size)
        n = np.bincount(key, minlength=self.size)
        at = np.flatnonzero(n)
        return at, sums[at], n[at]


def _now(now: Any) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    instance(now, "now", dt.datetime, "a datetime (naive means UTC) or None")
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


def _as_us(when: dt.datetime) -> int:
    from .._timestamps import epoch_us

    return epoch_us(when)


def _epoch_us(column: pd.Series) -> np.ndarray:
    """TIMESTAMP as int64 epoch µs (naive datetimes are UTC; numbers are refused)."""
    import pandas as pd

    if not (
        isinstance(column.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(column)
    ):
        raise ConfigTypeError(
            "events.TIMESTAMP",
            column.dtype,
            "datetimes (tz-aware, or naive meaning UTC); convert epoch numbers first with "
            "pd.to_datetime(column, unit='s', utc=True)",
        )
    index = pd.DatetimeIndex(column)
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    if index.hasnans:
        row = int(np.flatnonzero(index.isna())[0])
        raise ConfigError(f"events row {column.index[row]!r} TIMESTAMP", None, "a time")
    return np.asarray(index.as_unit("us").asi8, dtype=np.int64)


def _check_event_types(metrics: tuple[Metric, ...], present: list[str], n: int) -> None:
    """A metric whose event type never occurs is almost always a typo: say so."""
    if n == 0:
        return
    for metric in metrics:
        if metric.event_type in present:
            continue
        close = [t for t in present if t.lower() == metric.event_type.lower()]
        hint = f" (did you mean {close[0]!r}? event types are case-sensitive)" if close else ""
        raise ConfigError(
            f"metric {metric.metric_name!r} eventType",
            metric.event_type,
            f"an event type of the events: {', '.join(sorted(present)) or '(none)'}{hint}",
        )


def _values(
    metric: Metric, events: pd.DataFrame, of_type: np.ndarray, items: pd.DataFrame | None
) -> np.ndarray:
    """The value each event adds to ``metric`` (NaN: missing); only ``of_type`` rows matter."""
    if metric.function == "samplecount":
        return np.ones(len(events))
    assert metric.column is not None
    if metric.dataset == "Interactions":
        column = _column(events, metric.column, metric, "events")
        return _numeric(events[column], metric, f"events.{column}")
    import pandas as pd

    if items is None:
        raise ConfigError(
            "items", None, f"an items frame (ITEM_ID, {metric.column}) for {metric.expression}"
        )
    instance(items, "items", pd.DataFrame, "an items DataFrame")
    if "ITEM_ID" not in items.columns or "ITEM_ID" not in events.columns:
        raise ConfigError(
            "items", items, f"ITEM_ID in both events and items for {metric.expression}"
        )
    column = _column(items, metric.column, metric, "items")
    ids = items["ITEM_ID"].astype(str)
    if ids.duplicated().any():
        raise ConfigError("items.ITEM_ID", ids[ids.duplicated()].iloc[0], "unique item ids")
    per_item = _numeric(items[column], metric, f"items.{column}")
    values = np.full(len(events), np.nan)
    rows = np.flatnonzero(of_type)
    at = pd.Index(ids).get_indexer(events["ITEM_ID"].iloc[rows].astype(str))
    found = at >= 0
    values[rows[found]] = per_item[at[found]]
    return values


def _check_finite(metric: Metric, sums: np.ndarray) -> None:
    """A sum past the largest float would be written as inf: refuse it instead."""
    if not np.isfinite(sums).all():
        raise ConfigError(
            f"metric {metric.metric_name!r}",
            metric.expression,
            "values whose sum per 15-minute window and source is a finite number "
            f"(one passes {np.finfo(np.float64).max:.3g})",
        )


def _column(frame: pd.DataFrame, name: str, metric: Metric, what: str) -> str:
    if name in frame.columns:
        return name
    close = [c for c in frame.columns if str(c).upper() == name.upper()]
    if len(close) == 1:
        return str(close[0])
    raise ConfigError(
        f"metric {metric.metric_name!r} expression",
        metric.expression,
        f"a column of the {what}: {', '.join(map(str, frame.columns))}",
    )


def _numeric(column: pd.Series, metric: Metric, field: str) -> np.ndarray:
    """A column as float64; a non-numeric value is an error naming its row."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        raise ConfigError(
            field,
            str(column.dtype),
            f"a numeric column: SUM() of {metric.metric_name!r} adds numbers",
        )
    converted = pd.to_numeric(column, errors="coerce")
    values = np.asarray(converted, dtype=np.float64)
    # an infinite value cannot be sent (JSON has none) nor published: never write one
    bad = (converted.isna() & column.notna()).to_numpy() | np.isinf(values)
    if bad.any():
        row = bad.nonzero()[0][0]
        raise ConfigError(
            f"{field} row {column.index[row]!r}",
            column.iloc[row],
            f"a finite number: SUM() of {metric.metric_name!r} adds numbers",
        )
    return values


def _tidy(tables: list[Any], names: list[str], w0: int) -> pd.DataFrame:
    """The long frame: one row per (metric, window, source) with events."""
    import pandas as pd

    k = len(names)
    parts = []
    for metric, at, sums, n in tables:
        windows = (at // k + w0) * WINDOW_SECONDS
        parts.append(
            pd.DataFrame(
                {
                    "WINDOW": pd.to_datetime(windows, unit="s", utc=True),
                    "METRIC_NAME": metric.metric_name,
                    "EVENT_TYPE": metric.event_type,
                    "SOURCE": np.array(names, dtype=object)[at % k],
                    "VALUE": sums.astype(np.float64),
                    "MATH_FUNCTION": metric.function,
                    "EVENTS": n.astype(np.int64),
                }
            )
        )
    # in the order of the metrics, then of time and source: never of the rows' arrival
    tidy = pd.concat(parts, ignore_index=True)
    order = {m.metric_name: i for i, (m, *_) in enumerate(tables)}
    return tidy.sort_values(
        ["METRIC_NAME", "WINDOW", "SOURCE"],
        key=lambda c: c.map(order) if c.name == "METRIC_NAME" else c,
    ).reset_index(drop=True)


def _check_source_count(tidy: pd.DataFrame) -> None:
    found = sorted(set(tidy["SOURCE"]) - {SOURCE_NAME_UNDEFINED})
    if len(found) > MAX_SOURCES:
        raise ConfigError(
            "event attribution sources",
            f"{len(found)} sources ({', '.join(found[:5])}, …)",
            f"at most {MAX_SOURCES} unique sources per metric attribution (Personalize quota; "
            "merge sources or split the events)",
        )
