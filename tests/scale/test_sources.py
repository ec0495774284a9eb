"""Every source splits between workers without sending an event twice or leaving one out."""

from __future__ import annotations

import pytest

from personalize_sim import ConfigError, simulate, to_put_events
from personalize_sim.scale._sources import FrameSource, ParquetSource, SimulationSource
from personalize_sim.simulation import iter_simulate, write_parquet

SIM = {"users": 300, "days": 3, "rng": 2, "start": "2026-01-05"}


def event_ids(requests) -> list[str]:
    return [e["eventId"] for r in requests for e in r["eventList"]]


def all_shares(source, workers: int) -> list[list[str]]:
    shares = []
    for index in range(workers):
        requests, events = source.share(index, workers, "tracker")
        ids = event_ids(list(requests))
        assert events in (len(ids), -1)  # -1: a simulation's size is known once simulated
        shares.append(ids)
    return shares


@pytest.fixture(scope="module")
def expected() -> list[str]:
    return event_ids(to_put_events(simulate("retail", **SIM), "tracker"))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("parquet")
    write_parquet(iter_simulate("retail", chunk_events=150, arrow=True, **SIM), out)
    return out


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_frame_shares_are_the_frames_requests_split(expected, workers):
    shares = all_shares(FrameSource(simulate("retail", **SIM)), workers)
    assert [i for s in shares for i in s] == expected
    assert all(shares)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_parquet_shares_split_the_row_groups(folder, expected, workers):
    shares = all_shares(ParquetSource(folder), workers)
    ids = [i for s in shares for i in s]
    assert sorted(ids) == sorted(expected) and len(set(ids)) == len(ids)
    assert all(shares)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_live_simulation_shares_its_blocks_of_time(expected, workers):
    shares = all_shares(SimulationSource("retail", **SIM), workers)
    ids = [i for s in shares for i in s]
    assert sorted(ids) == sorted(expected) and len(set(ids)) == len(ids)


def test_more_workers_than_row_groups_is_a_clear_error(folder):
    groups = len(ParquetSource(folder).pieces())
    with pytest.raises(ConfigError, match=f"at most {groups}: there are {groups} Parquet row"):
        ParquetSource(folder).share(0, groups + 1, "tracker")
