"""The public functions: the events-frame contract, reproducibility, chunking, Parquet,
and bad arguments refused with a ConfigError."""

from __future__ import annotations

import importlib
import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import personalize_sim
from personalize_sim import ConfigError, SimulationConfig, simulate, validate_events
from personalize_sim._schema import EVENT_COLUMNS
from personalize_sim.errors import ConfigTypeError
from personalize_sim.simulation import iter_simulate, write_parquet

from .conftest import NOW, START

CONTRACT = [c for c in EVENT_COLUMNS if c != "EVENT_ID"]  # the payload layer derives ids


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["retail", "video-on-demand"])
def test_frames_follow_the_contract(frames, name):
    frame = frames[name]
    config = SimulationConfig.preset(name)
    properties = [p.name for p in config.properties]
    assert list(frame.columns[: len(CONTRACT) + 1]) == [*CONTRACT, "RECOMMENDER_ARN"]
    after = len(CONTRACT) + 1  # then who issued each recommendation id, then properties
    assert list(frame.columns[after : after + len(properties)]) == properties
    assert all(c.islower() for c in frame.columns[after + len(properties) :])
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


def test_same_seed_same_bytes_other_seed_other_frame():
    config = SimulationConfig.preset("retail").replace(users=800, days=2, start=START)
    first = simulate(config, rng=123)
    again = simulate(config, rng=np.random.default_rng(123))
    pd.testing.assert_frame_equal(first, again)
    assert parquet_bytes(first) == parquet_bytes(again)
    # the config's own seed is used when no rng is given
    pd.testing.assert_frame_equal(simulate(config.replace(rng=123)), first)
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


def test_the_same_config_and_seed_give_the_same_frame_whenever_it_runs():
    first = simulate("retail", users=300, days=1, rng=1)
    again = simulate("retail", users=300, days=1, rng=1)
    pd.testing.assert_frame_equal(first, again)
    assert first["TIMESTAMP"].min() >= pd.Timestamp("2026-01-05", tz="UTC")  # DEFAULT_START
    assert first["TIMESTAMP"].max() < pd.Timestamp("2026-01-06", tz="UTC")


def test_a_window_ending_now_is_an_explicit_choice():
    frame = simulate("retail", users=300, days=1, rng=1, now=NOW)
    span = pd.Timestamp(NOW) - frame["TIMESTAMP"].max()
    assert pd.Timedelta(0) < span < pd.Timedelta(hours=1)
    assert frame["TIMESTAMP"].min() >= pd.Timestamp(NOW) - pd.Timedelta(days=1)
    pinned = simulate("retail", users=300, days=1, rng=1, end=NOW)
    pd.testing.assert_frame_equal(frame, pinned)
    before = pd.Timestamp.now(tz="UTC")
    live = simulate("retail", users=300, days=1, rng=1, end="now")
    assert live["TIMESTAMP"].max() < pd.Timestamp.now(tz="UTC")
    assert live["TIMESTAMP"].min() >= before - pd.Timedelta(days=1)
    assert live["TIMESTAMP"].max() > before - pd.Timedelta(hours=6)


def test_a_window_is_a_start_or_an_end_not_both():
    with pytest.raises(ValueError, match=r"end: .*None when start is given"):
        simulate("retail", users=10, days=1, start="2026-01-01", end="2026-01-02")
    with pytest.raises(ValueError, match=r'end: got .tomorrow.; an ISO 8601 date-time.*or "now"'):
        simulate("retail", users=10, days=1, end="tomorrow")


def test_the_package_and_the_function_answer_the_same_call():
    # importing a submodule binds the subpackage over the function on personalize_sim
    importlib.import_module("personalize_sim.simulation._config")
    assert callable(personalize_sim.simulate)

    frame = personalize_sim.simulate(users=50, days=1, rng=3, start=START)
    assert len(frame) > 0 and list(frame.columns[:2]) == ["USER_ID", "SESSION_ID"]


def test_bad_arguments_are_refused():
    with pytest.raises(ConfigError, match="chunk_events") as error:
        iter_simulate(chunk_events=0)
    assert (error.value.field, error.value.value) == ("chunk_events", 0)
    with pytest.raises(ConfigTypeError, match="chunk_events"):
        iter_simulate(chunk_events=1.5)
    with pytest.raises(ConfigTypeError, match="SimulationConfig") as error:
        simulate(config=42)
    assert error.value.field == "config"
    with pytest.raises(ConfigError) as error:
        simulate("grocery")
    assert error.value.field == "preset"
    with pytest.raises(ConfigTypeError) as error:
        simulate(users=10, days=1, rng="seven")
    assert error.value.field == "rng"
    with pytest.raises(ConfigError) as error:
        simulate(users=10, days=1, rng=-1)
    assert error.value.field == "rng"
    with pytest.raises(ConfigTypeError) as error:
        simulate(users=10, days=1, now="2026-01-01")
    assert error.value.field == "now"
    with pytest.raises(ConfigTypeError) as error:
        simulate(users=10, days=1, progress=True)
    assert error.value.field == "progress"
    with pytest.raises(ConfigError) as error:
        simulate(users=0)
    assert error.value.field == "users"
    # nothing was generated for a refused call: a generator is never returned half-checked
    assert isinstance(iter_simulate(users=10, days=1, rng=1, start=START), Iterator)


def test_write_parquet_refuses_what_it_cannot_write(tmp_path):
    with pytest.raises(ConfigTypeError) as error:
        write_parquet(42, tmp_path / "x")
    assert error.value.field == "frames"
    with pytest.raises(ConfigTypeError) as error:
        write_parquet([pd.DataFrame({"a": [1]}), "not a frame"], tmp_path / "parts")
    assert error.value.field == "frames[1]"
    with pytest.raises(ConfigTypeError) as error:
        write_parquet(pd.DataFrame({"a": [1]}), 3)
    assert error.value.field == "path"


def test_a_single_frame_or_table_is_one_file(tmp_path):
    frame = simulate(users=100, days=1, rng=2, start=START)
    written = write_parquet(frame, tmp_path / "deep" / "events.parquet")
    assert written == [tmp_path / "deep" / "events.parquet"]
    back = pd.read_parquet(written[0])
    assert back["SESSION_ID"].tolist() == frame["SESSION_ID"].tolist()
    table = next(iter_simulate(users=100, days=1, rng=2, start=START, arrow=True))
    (path,) = write_parquet(table, tmp_path / "table.parquet")
    back = pq.read_table(path)
    assert back.num_rows == table.num_rows > 0
    for name in ("SESSION_ID", "ITEM_ID", "IMPRESSION", "TIMESTAMP"):
        assert back.column(name).to_pylist() == table.column(name).to_pylist()


def test_progress_counts_the_blocks():
    calls: list[tuple[int, int]] = []
    simulate(users=200, days=3, rng=4, start=START, progress=lambda *call: calls.append(call))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    calls.clear()
    list(iter_simulate(users=200, days=2, rng=4, start=START, progress=lambda *c: calls.append(c)))
    assert calls == [(1, 2), (2, 2)]


def test_an_empty_simulation_still_has_the_contract():
    frame = simulate(users=1, days=0.001, rng=1, start=START)
    assert len(frame) == 0
    assert list(frame.columns[: len(CONTRACT)]) == CONTRACT
    assert str(frame["TIMESTAMP"].dtype) == "datetime64[us, UTC]"
    assert len(validate_events(frame)) == 0
    assert list(iter_simulate(users=1, days=0.001, rng=1, start=START)) == []


def test_frames_become_valid_put_events_requests(frames):
    from personalize_sim import limits, to_put_events

    frame = frames["video-on-demand"].head(3_000)
    requests = to_put_events(frame, "tracking-id")
    assert sum(len(r["eventList"]) for r in requests) == len(frame)
    assert not [v for r in requests for v in limits.check_request("PutEvents", r)]
    with_slates = [e for r in requests for e in r["eventList"] if "impression" in e]
    assert with_slates and all(len(e["impression"]) == 20 for e in with_slates)
