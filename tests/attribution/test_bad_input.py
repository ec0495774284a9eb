"""Bad input: a clear error naming the field, the value and the limit."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from personalize_sim import ConfigError
from personalize_sim.attribution import MetricAttribution, attribution_report
from personalize_sim.attribution._metrics import limit

NOW = dt.datetime(2026, 1, 20, tzinfo=dt.UTC)


def frame(**columns) -> pd.DataFrame:
    base = {
        "EVENT_TYPE": ["Purchase", "View"],
        "TIMESTAMP": pd.to_datetime(["2026-01-19 10:00", "2026-01-19 10:01"], utc=True),
    }
    base.update(columns)
    return pd.DataFrame(base)


def metric(event_type="Purchase", name="m", expression="SAMPLECOUNT()"):
    return {"eventType": event_type, "metricName": name, "expression": expression}


def attribution(*specs, **kwargs) -> MetricAttribution:
    return MetricAttribution.from_json({"metrics": list(specs)}, **kwargs)


def test_the_metric_limit_comes_from_botocores_model():
    most = limit("metrics").max
    assert most == 10
    attribution(*[metric(name=f"m{i}") for i in range(most)])
    with pytest.raises(ConfigError, match=r"1 to 10 metrics"):
        attribution(*[metric(name=f"m{i}") for i in range(most + 1)])


@pytest.mark.parametrize(
    "expression",
    ["COUNT()", "SUM(EVENT_VALUE)", "SUM(Users.AGE)", "SAMPLECOUNT(x)", "SUM(Items.)"],
)
def test_a_malformed_expression_is_refused(expression):
    with pytest.raises(ConfigError, match=r"SAMPLECOUNT\(\) or SUM"):
        attribution(metric(expression=expression))


def test_too_long_names_are_refused_with_the_models_limit():
    with pytest.raises(ConfigError, match=r"metrics\[0\]\.metricName"):
        attribution(metric(name="x" * 257))
    with pytest.raises(ConfigError, match=r"name"):
        MetricAttribution.from_json({"name": "bad name!", "metrics": [metric()]})


def test_unknown_keys_and_missing_keys_are_refused():
    with pytest.raises(ConfigError, match=r"metricz"):
        MetricAttribution.from_json({"metricz": []})
    with pytest.raises(ConfigError, match=r"eventType, metricName, expression"):
        MetricAttribution.from_json({"metrics": [{"eventType": "View"}]})


def test_an_unknown_event_type_names_the_ones_present_and_the_case_mismatch():
    with pytest.raises(ConfigError, match=r"did you mean 'Purchase'"):
        attribution_report(frame(), attribution(metric(event_type="purchase")), now=NOW)


def test_a_non_numeric_sum_column_names_the_row():
    events = frame(DISCOUNT=["Yes", "No"])
    ma = attribution(metric(expression="SUM(Interactions.DISCOUNT)"))
    with pytest.raises(ConfigError, match=r"events.DISCOUNT row 0.*a finite number"):
        attribution_report(events, ma, now=NOW)


def test_a_non_numeric_items_column_is_refused():
    items = pd.DataFrame({"ITEM_ID": ["a"], "COLOUR": ["red"]})
    ma = attribution(metric(expression="SUM(Items.COLOUR)"))
    with pytest.raises(ConfigError, match=r"items.COLOUR"):
        attribution_report(frame(ITEM_ID=["a", "a"]), ma, items=items, now=NOW)


def test_sum_over_items_without_an_items_frame_says_what_is_needed():
    ma = attribution(metric(expression="SUM(Items.PRICE)"))
    with pytest.raises(ConfigError, match=r"an items frame \(ITEM_ID, PRICE\)"):
        attribution_report(frame(ITEM_ID=["a", "a"]), ma, now=NOW)


def test_a_creation_time_in_the_future_is_refused():
    ma = attribution(metric(), created_at=NOW + dt.timedelta(hours=1))
    with pytest.raises(ConfigError, match=r"created_at.*at or before now"):
        attribution_report(frame(), ma, now=NOW)


def test_more_than_100_sources_is_refused():
    n = 101
    events = pd.DataFrame(
        {
            "EVENT_TYPE": ["Purchase"] * n,
            "TIMESTAMP": pd.Timestamp("2026-01-19", tz="UTC"),
            "EVENT_ATTRIBUTION_SOURCE": [f"s{i}" for i in range(n)],
        }
    )
    with pytest.raises(ConfigError, match=r"at most 100 unique sources"):
        attribution_report(events, attribution(metric()), now=NOW)
    attribution_report(events.iloc[:100], attribution(metric()), now=NOW)


def test_epoch_numbers_are_refused_with_the_conversion_to_use():
    events = frame(TIMESTAMP=[1.7e9, 1.7e9])
    with pytest.raises(ConfigError, match=r"pd.to_datetime"):
        attribution_report(events, attribution(metric()), now=NOW)


def test_a_bad_json_file_is_named(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"valid JSON"):
        MetricAttribution.from_json(path)
    with pytest.raises(ConfigError, match=r"an existing JSON file"):
        MetricAttribution.from_json(tmp_path / "missing.json")
