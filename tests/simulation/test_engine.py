"""The engine: the events-frame contract, reproducibility, chunking, validity."""

from __future__ import annotations

import datetime as dt
import importlib
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import personalize_sim
from personalize_sim import SimulationConfig, iter_simulate, simulate, validate_events
from personalize_sim.schema import EVENT_COLUMNS
from personalize_sim.simulation import write_parquet

from .conftest import START

CONTRACT = [c for c in EVENT_COLUMNS if c != "EVENT_ID"]  # the payload layer derives ids
NOW = dt.datetime(2026, 11, 26, 12, 30, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {
        name: simulate(name, users=1_500, days=3, now=NOW) for name in ("retail", "video-on-demand")
    }


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["retail", "video-on-demand"])
def test_frames_follow_the_contract(frames, name):
    frame = frames[name]
    config = SimulationConfig.preset(name)
    properties = [p.name for p in config.properties]
    assert list(frame.columns[: len(CONTRACT)]) == CONTRACT
    assert list(frame.columns[len(CONTRACT) : len(CONTRACT) + len(properties)]) == properties
    assert all(c.islower() for c in frame.columns[len(CONTRACT) + len(properties) :])
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"
    assert frame["EVENT_VALUE"].dtype == np.float64
    for column in ("USER_ID", "SESSION_ID", "ITEM_ID", "EVENT_TYPE", "RECOMMENDATION_ID"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["SESSION_ID"].notna().all() and frame["ITEM_ID"].notna().all()
    assert set(frame["EVENT_TYPE"]) <= set(config.funnel.names)
    # sorted by time, then session
    key = list(zip(frame["TIMESTAMP"], frame["SESSION_ID"], strict=True))
    assert key == sorted(key)
    assert frame.index.equals(pd.RangeIndex(len(frame)))
    # the window ends now, and no event happens after it
    assert frame["TIMESTAMP"].max() < pd.Timestamp(NOW)
    assert frame["TIMESTAMP"].min() >= pd.Timestamp(NOW) - pd.Timedelta(days=3)
    impressions = frame["IMPRESSION"].dropna()
    assert impressions.map(type).eq(list).all()
    assert impressions.map(len).eq(config.exposure.slate_size).all()
    assert frame["RECOMMENDATION_ID"].dropna().str.len().max() <= 40
    sources = {a.attribution_source for a in config.exposure.arms}
    assert set(frame["EVENT_ATTRIBUTION_SOURCE"].dropna()) == sources
    for spec in config.properties:
        assert set(frame[spec.name]) == set(spec.values)
    # DEVICE is a session property: one value per session
    assert frame.groupby("SESSION_ID")["DEVICE"].nunique().max() == 1


@pytest.mark.parametrize("name", ["retail", "video-on-demand"])
def test_every_generated_frame_passes_validate_events(frames, name):
    problems = validate_events(frames[name])
    assert len(problems) == 0, problems.head()


def test_event_values_by_type(frames):
    retail = frames["retail"]
    purchases = retail[retail["EVENT_TYPE"] == "Purchase"]["EVENT_VALUE"]
    assert len(purchases) and (purchases > 0).all()
    assert retail[retail["EVENT_TYPE"] != "Purchase"]["EVENT_VALUE"].isna().all()
    vod = frames["video-on-demand"]
    ratings = vod[vod["EVENT_TYPE"] == "Rate"]["EVENT_VALUE"]
    assert set(ratings.unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0} and ratings.nunique() >= 4
    watched = vod[vod["EVENT_TYPE"] == "Watch"]["EVENT_VALUE"]
    assert (watched >= 0).all() and watched.median() > 600
    # follow-on events act on the item the session last picked
    ordered = retail.sort_values(["SESSION_ID", "TIMESTAMP"])
    previous = ordered.groupby("SESSION_ID")["ITEM_ID"].shift()
    follow = ordered["EVENT_TYPE"] != "View"
    assert (ordered.loc[follow, "ITEM_ID"] == previous[follow]).all()


def test_same_seed_same_bytes_other_seed_other_frame():
    config = SimulationConfig.preset("retail").replace(users=800, days=2, start=START)
    first = simulate(config, rng=123)
    again = simulate(config, rng=np.random.default_rng(123))
    pd.testing.assert_frame_equal(first, again)
    assert parquet_bytes(first) == parquet_bytes(again)
    # the config's own seed is used when no rng is given
    pd.testing.assert_frame_equal(simulate(config.replace(seed=123)), first)
    other = simulate(config, rng=124)
    assert len(other) != len(first) or not other["ITEM_ID"].equals(first["ITEM_ID"])


def test_chunk_size_never_changes_the_events():
    config = SimulationConfig.preset("video-on-demand").replace(users=1_000, days=2, start=START)
    whole = simulate(config, rng=5)
    for size in (997, 4_096):
        chunks = list(iter_simulate(config, rng=5, chunk_events=size))
        assert [len(c) for c in chunks[:-1]] == [size] * (len(chunks) - 1)
        assert 0 < len(chunks[-1]) <= size
        joined = pd.concat(chunks)
        pd.testing.assert_frame_equal(joined, whole)
        assert parquet_bytes(joined) == parquet_bytes(whole)


def test_partitioned_parquet_reads_back(tmp_path):
    config = SimulationConfig.preset("retail").replace(users=300, days=1, start=START)
    written = write_parquet(iter_simulate(config, rng=2, chunk_events=100), tmp_path / "events")
    assert len(written) >= 2
    back = pd.read_parquet(tmp_path / "events")
    whole = simulate(config, rng=2)
    assert len(back) == len(whole)
    assert back["SESSION_ID"].tolist() == whole["SESSION_ID"].tolist()
    assert [list(x) if x is not None else None for x in back["IMPRESSION"]] == list(
        whole["IMPRESSION"]
    )


def test_window_defaults_to_ending_now():
    frame = simulate("retail", users=300, days=1, rng=1, now=NOW)
    span = pd.Timestamp(NOW) - frame["TIMESTAMP"].max()
    assert pd.Timedelta(0) < span < pd.Timedelta(hours=1)
    assert frame["TIMESTAMP"].min() >= pd.Timestamp(NOW) - pd.Timedelta(days=1)
    # without ``now`` the window ends at the real current time, not a fixed date
    before = pd.Timestamp.now(tz="UTC")
    live = simulate("retail", users=300, days=1, rng=1)
    assert live["TIMESTAMP"].max() < pd.Timestamp.now(tz="UTC")
    assert live["TIMESTAMP"].min() >= before - pd.Timedelta(days=1)
    assert live["TIMESTAMP"].max() > before - pd.Timedelta(hours=6)


def test_the_package_and_the_function_answer_the_same_call():
    # importing a submodule binds the subpackage over the function on personalize_sim
    importlib.import_module("personalize_sim.simulation._config")
    assert callable(personalize_sim.simulate)

    frame = personalize_sim.simulate(users=50, days=1, rng=3, start=START)
    assert len(frame) > 0 and list(frame.columns[:2]) == ["USER_ID", "SESSION_ID"]


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="chunk_events"):
        next(iter_simulate(chunk_events=0))
    with pytest.raises(TypeError, match="SimulationConfig"):
        simulate(config=42)


def test_arrow_chunks_hold_the_same_events():
    config = SimulationConfig.preset("retail").replace(users=400, days=1, start=START)
    frame = simulate(config, rng=8)
    tables = list(iter_simulate(config, rng=8, chunk_events=700, arrow=True))
    assert [t.num_rows for t in tables[:-1]] == [700] * (len(tables) - 1)
    table = pa.concat_tables(tables)
    assert table.column_names == list(frame.columns)
    assert table.schema.field("TIMESTAMP").type == pa.timestamp("us", tz="UTC")
    assert table.column("IMPRESSION").to_pylist() == list(frame["IMPRESSION"])
    for name in ("USER_ID", "SESSION_ID", "RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE"):
        assert (
            table.column(name).to_pylist()
            == frame[name].astype(object).where(frame[name].notna(), None).tolist()
        )
    assert (
        table.column("position").to_pylist()
        == frame["position"].astype(object).where(frame["position"].notna(), None).tolist()
    )
    assert table.column("arm").to_pylist() == frame["arm"].astype(str).tolist()
    np.testing.assert_array_equal(table.column("EVENT_VALUE").to_numpy(), frame["EVENT_VALUE"])


def test_an_empty_simulation_still_has_the_contract():
    frame = simulate(users=1, days=0.001, rng=1, start=START)
    assert len(frame) == 0
    assert list(frame.columns[: len(CONTRACT)]) == CONTRACT
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"
    assert len(validate_events(frame)) == 0
    assert list(iter_simulate(users=1, days=0.001, rng=1, start=START)) == []


def test_threads_never_change_the_events(monkeypatch):
    from personalize_sim.simulation import _scheduler

    config = SimulationConfig.preset("retail").replace(users=600, days=3, start=START)
    threaded = simulate(config, rng=31)
    monkeypatch.setattr(_scheduler, "MAX_WORKERS", 1)
    pd.testing.assert_frame_equal(simulate(config, rng=31), threaded)


def test_frames_become_valid_put_events_requests(frames):
    from personalize_sim import limits, to_put_events

    frame = frames["video-on-demand"].head(3_000)
    requests = to_put_events(frame, "tracking-id")
    assert sum(len(r["eventList"]) for r in requests) == len(frame)
    assert not [v for r in requests for v in limits.check_request("PutEvents", r)]
    with_slates = [e for r in requests for e in r["eventList"] if "impression" in e]
    assert with_slates and all(len(e["impression"]) == 20 for e in with_slates)
