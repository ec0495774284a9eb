"""attribution_report against small hand-computed examples."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from personalize_sim.attribution import (
    SOURCE_NAME_UNDEFINED,
    MetricAttribution,
    attribution_report,
)

UTC = dt.UTC
NOW = dt.datetime(2026, 1, 20, tzinfo=UTC)


def metrics(*specs: tuple[str, str, str], created_at: dt.datetime | None = None):
    return MetricAttribution.from_json(
        {
            "name": "test",
            "metrics": [{"eventType": t, "metricName": n, "expression": e} for t, n, e in specs],
        },
        created_at=created_at,
    )


COUNT_BUYS = ("Purchase", "buys", "SAMPLECOUNT()")


def row(ts, EVENT_TYPE="Purchase", **columns) -> dict:  # noqa: N803 (the frame's column)
    return {"EVENT_TYPE": EVENT_TYPE, "TIMESTAMP": ts, **columns}


def events(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["TIMESTAMP"] = pd.to_datetime(frame["TIMESTAMP"], utc=True, format="mixed")
    for column in ("RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE"):
        if column not in frame:
            frame[column] = None
    return frame


def test_an_explicit_source_wins_over_the_recommendation_id():
    frame = events(
        [
            row("2026-01-19 10:01", RECOMMENDATION_ID="r1", EVENT_ATTRIBUTION_SOURCE="banner"),
            row("2026-01-19 10:02", RECOMMENDATION_ID="r1"),
            row("2026-01-19 10:03"),
        ]
    )  # fmt: skip
    report = attribution_report(
        frame,
        metrics(COUNT_BUYS),
        recommenders={"r1": "arn:aws:personalize:::recommender/top"},
        now=NOW,
    )
    totals = report.totals().set_index("SOURCE")["VALUE"].to_dict()
    assert totals == {
        "banner": 1.0,
        "arn:aws:personalize:::recommender/top": 1.0,
        SOURCE_NAME_UNDEFINED: 1.0,
    }


def test_two_events_in_adjacent_15_minute_windows_are_two_rows():
    frame = events(
        [
            row("2026-01-19 10:00:00", EVENT_ATTRIBUTION_SOURCE="s"),
            row("2026-01-19 10:14:59.999999", EVENT_ATTRIBUTION_SOURCE="s"),
            row("2026-01-19 10:15:00", EVENT_ATTRIBUTION_SOURCE="s"),
        ]
    )  # fmt: skip
    s3 = attribution_report(frame, metrics(COUNT_BUYS), now=NOW).s3()
    start = int(dt.datetime(2026, 1, 19, 10, tzinfo=UTC).timestamp())
    assert s3["TIMESTAMP"].tolist() == [start, start + 900]
    assert s3["VALUE"].tolist() == [2.0, 1.0]
    assert s3["METRIC_NAME"].tolist() == ["BUYS", "BUYS"]
    assert s3["EVENT_TYPE"].tolist() == ["PURCHASE", "PURCHASE"]
    assert s3["MATH_FUNCTION"].tolist() == ["samplecount", "samplecount"]


def test_the_14_day_and_creation_time_cut_offs():
    created = dt.datetime(2026, 1, 10, 12, tzinfo=UTC)
    day14 = NOW - dt.timedelta(days=14)
    frame = events(
        [
            row(day14),  # before creation, 14 days old
            row(day14 + dt.timedelta(seconds=1)),  # before
            row(created - dt.timedelta(microseconds=1)),  # out
            row(created),  # in
            row(NOW),  # in
            row(NOW + dt.timedelta(seconds=1)),  # after now
        ]
    )  # fmt: skip
    report = attribution_report(frame, metrics(COUNT_BUYS, created_at=created), now=NOW)
    assert report.total("buys") == 2.0
    counts = report.counts.iloc[0]
    assert counts["before_creation"] == 3  # counted once, under the first reason
    assert counts["older_than_14_days"] == 0
    assert counts["after_now"] == 1
    assert counts["counted"] == 2


def test_the_14_day_cut_off_alone():
    day14 = NOW - dt.timedelta(days=14)
    frame = events(
        [
            row(day14),
            row(day14 + dt.timedelta(microseconds=1)),
        ]
    )
    report = attribution_report(frame, metrics(COUNT_BUYS), now=NOW)
    assert report.total("buys") == 1.0
    assert report.counts.loc[0, "older_than_14_days"] == 1


def test_sum_over_an_items_column():
    frame = events(
        [
            row("2026-01-19 10:01", ITEM_ID="a", EVENT_ATTRIBUTION_SOURCE="x"),
            row("2026-01-19 10:02", ITEM_ID="b", EVENT_ATTRIBUTION_SOURCE="x"),
            row("2026-01-19 10:03", ITEM_ID="a", EVENT_ATTRIBUTION_SOURCE="y"),
            row("2026-01-19 10:04", EVENT_TYPE="View", ITEM_ID="b", EVENT_ATTRIBUTION_SOURCE="x"),
        ]
    )  # fmt: skip
    items = pd.DataFrame({"ITEM_ID": ["a", "b"], "MARGIN": [2.5, 10.0]})
    ma = metrics(("Purchase", "margin", "SUM(ITEMS.MARGIN)"))
    report = attribution_report(frame, ma, items=items, now=NOW)
    totals = report.totals().set_index("SOURCE")["VALUE"].to_dict()
    assert totals == {"x": 12.5, "y": 2.5}
    assert report.s3()["MATH_FUNCTION"].unique().tolist() == ["sum"]


def test_sum_over_an_interactions_column_and_a_missing_value_is_counted():
    frame = events(
        [
            row("2026-01-19 10:01", EVENT_VALUE=3.0),
            row("2026-01-19 10:02", EVENT_VALUE=4.5),
            row("2026-01-19 10:03", EVENT_VALUE=None),
        ]
    )
    report = attribution_report(
        frame, metrics(("Purchase", "value", "SUM(Interactions.EVENT_VALUE)")), now=NOW
    )
    assert report.total("value") == 7.5
    assert report.counts.loc[0, "missing_value"] == 1


def test_an_item_missing_from_the_items_frame_is_counted_not_dropped():
    frame = events(
        [
            row("2026-01-19 10:01", ITEM_ID="a"),
            row("2026-01-19 10:02", ITEM_ID="zzz"),
        ]
    )
    items = pd.DataFrame({"ITEM_ID": ["a"], "PRICE": [5.0]})
    report = attribution_report(
        frame, metrics(("Purchase", "rev", "SUM(Items.PRICE)")), items=items, now=NOW
    )
    assert report.total("rev") == 5.0
    assert report.counts.loc[0, "missing_value"] == 1


def test_s3_file_has_the_documented_name_and_columns(tmp_path: Path):
    frame = events([row("2026-01-19 10:01")])
    report = attribution_report(frame, metrics(COUNT_BUYS), now=NOW)
    path = report.write_s3(tmp_path)
    assert path.name == f"AggregatedAttributionMetrics - INCREMENTAL - {int(NOW.timestamp())}.csv"
    lines = path.read_text().splitlines()
    assert (
        lines[0] == "METRIC_NAME,EVENT_TYPE,VALUE,MATH_FUNCTION,EVENT_ATTRIBUTION_SOURCE,TIMESTAMP"
    )
    start = int(dt.datetime(2026, 1, 19, 10, tzinfo=UTC).timestamp())
    assert lines[1] == f"BUYS,PURCHASE,1.0,samplecount,SOURCE_NAME_UNDEFINED,{start}"


def test_cloudwatch_upper_cases_sources_and_merges_those_that_differ_only_in_case():
    frame = events(
        [
            row("2026-01-19 10:01", EVENT_ATTRIBUTION_SOURCE="top-picks"),
            row("2026-01-19 10:02", EVENT_ATTRIBUTION_SOURCE="Top-Picks"),
        ]
    )  # fmt: skip
    report = attribution_report(frame, metrics(COUNT_BUYS), now=NOW)
    assert sorted(report.s3()["EVENT_ATTRIBUTION_SOURCE"]) == ["Top-Picks", "top-picks"]
    cw = report.cloudwatch()
    assert cw[["MetricName", "EventAttributionSource", "Sum"]].values.tolist() == [
        ["BUYS", "TOP-PICKS", 2.0]
    ]
    assert cw["Namespace"].tolist() == ["AWS/Personalize"] and cw["Period"].tolist() == [900]


def test_unmapped_recommendation_ids_are_counted_as_undefined_or_refused():
    frame = events(
        [
            row("2026-01-19 10:01", RECOMMENDATION_ID="known"),
            row("2026-01-19 10:02", RECOMMENDATION_ID="stray"),
        ]
    )  # fmt: skip
    recs = {"known": "arn:aws:personalize:::recommender/a"}
    report = attribution_report(frame, metrics(COUNT_BUYS), recommenders=recs, now=NOW)
    assert report.total("buys", SOURCE_NAME_UNDEFINED) == 1.0
    assert report.counts.loc[0, "unmapped_recommendation_id"] == 1
    assert report.counts.loc[0, "undefined_source"] == 1
    from personalize_sim import ConfigError

    with pytest.raises(ConfigError, match="stray"):
        attribution_report(frame, metrics(COUNT_BUYS), recommenders=recs, now=NOW, unmapped="error")


def test_recommenders_as_the_simulators_table():
    frame = events([row("2026-01-19 10:01", RECOMMENDATION_ID="r")])
    table = pd.DataFrame(
        {"RECOMMENDATION_ID": ["r"], "RECOMMENDER": ["top"], "RECOMMENDER_ARN": ["arn:x"]}
    )
    report = attribution_report(frame, metrics(COUNT_BUYS), recommenders=table, now=NOW)
    assert report.totals()["SOURCE"].tolist() == ["arn:x"]


def test_ids_no_recommender_issued_go_to_undefined_when_nothing_maps_any_id():
    # no mapping at all (generate's own output on the command line crashed here)
    frame = events(
        [
            row("2026-01-19 10:01", RECOMMENDATION_ID="stray-1"),
            row("2026-01-19 10:02", RECOMMENDATION_ID="stray-2"),
            row("2026-01-19 10:03", EVENT_ATTRIBUTION_SOURCE="banner"),
        ]
    )  # fmt: skip
    report = attribution_report(frame, metrics(COUNT_BUYS), now=NOW)
    assert report.total("buys", SOURCE_NAME_UNDEFINED) == 2.0
    assert report.total("buys", "banner") == 1.0
    assert report.counts.loc[0, "unmapped_recommendation_id"] == 2


def test_the_issuer_a_frame_carries_is_credited_and_a_given_mapping_wins():
    frame = events(
        [
            row("2026-01-19 10:01", RECOMMENDATION_ID="r1", RECOMMENDER_ARN="arn:carried"),
            row("2026-01-19 10:02", RECOMMENDATION_ID="r2", RECOMMENDER_ARN="arn:carried"),
            row("2026-01-19 10:03", RECOMMENDATION_ID="r3", RECOMMENDER_ARN=None),
        ]
    )  # fmt: skip
    report = attribution_report(frame, metrics(COUNT_BUYS), recommenders={"r2": "arn:given"},
                                now=NOW)  # fmt: skip
    totals = dict(zip(report.totals()["SOURCE"], report.totals()["VALUE"], strict=True))
    assert totals == {"arn:carried": 1.0, "arn:given": 1.0, SOURCE_NAME_UNDEFINED: 1.0}
    assert report.counts.loc[0, "unmapped_recommendation_id"] == 1  # r3: nobody issued it
    # an events frame is a mapping too: the one a tracker's store lacks
    stored = frame.drop(columns="RECOMMENDER_ARN")
    again = attribution_report(stored, metrics(COUNT_BUYS), recommenders=frame, now=NOW)
    assert again.total("buys", "arn:carried") == 2.0


@pytest.mark.parametrize(
    ("values", "items"),
    [([float("inf"), 1.0], None), ([1.0, 1.0], [float("inf")]), ([1e308, 1e308], None)],
)
def test_an_infinite_value_or_sum_is_refused_never_reported(values, items):
    from personalize_sim import ConfigError

    frame = events([row("2026-01-19 10:01", ITEM_ID="a", EVENT_VALUE=v) for v in values])
    if items is None:
        spec = ("Purchase", "value", "SUM(Interactions.EVENT_VALUE)")
        match = r"EVENT_VALUE row 0.*a finite number" if values[0] == float("inf") else "finite"
        table = None
    else:
        spec, match = ("Purchase", "value", "SUM(Items.PRICE)"), r"items.PRICE row 0.*finite"
        table = pd.DataFrame({"ITEM_ID": ["a"], "PRICE": items})
    with pytest.raises(ConfigError, match=match):
        attribution_report(frame, metrics(spec), items=table, now=NOW)


def test_the_report_does_not_depend_on_the_order_of_the_rows():
    """A tracker returns events in arrival order, which concurrent sends shuffle: the report
    of the same events is the same, row for row (it was sorted by first appearance of each
    source, so notebook 04's frame-vs-store check failed when requests overtook each other)."""
    from personalize_sim import simulate

    frame = simulate("retail", users=150, days=1, start="2026-01-05", rng=5)
    views = MetricAttribution.from_json(
        {"metrics": [{"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"}]}
    )
    now = dt.datetime(2026, 1, 7, tzinfo=dt.timezone.utc)
    expected = attribution_report(frame, views, now=now)
    for seed in range(3):
        shuffled = attribution_report(frame.sample(frac=1, random_state=seed), views, now=now)
        pd.testing.assert_frame_equal(shuffled.s3(), expected.s3())
        pd.testing.assert_frame_equal(shuffled.table, expected.table)
