"""Dask: the same frame as ``simulate`` from partitions of blocks of time, on a cluster; a
partitioned stream whose merged ledger balances against the tracker's store; lost workers."""

from __future__ import annotations

import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from personalize_sim import ConfigError, LocalTracker, simulate
from personalize_sim.scale.dask import simulate_frame, stream, write_parquet
from personalize_sim.simulation import write_parquet as write_single
from personalize_sim.streaming import FastTarget

distributed = pytest.importorskip("distributed")

SIM = {"users": 400, "days": 4, "rng": 3, "start": "2026-01-05"}


@pytest.fixture(scope="module")
def client():
    """Two workers in this process (threads): quick to start, real Dask scheduling."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


def same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    got.attrs = expected.attrs
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("partitions", [1, 3, 4])
def test_the_dask_frame_is_simulates_frame(client, partitions):
    expected = simulate("retail", **SIM)
    frame = simulate_frame("retail", partitions=partitions, **SIM)
    assert frame.npartitions == partitions
    same_frame(frame.compute(), expected)


def test_sessions_spilling_across_partitions_keep_their_order(client, monkeypatch):
    """Small blocks (1 h) make sessions run across partitions: the frame is still the same."""
    import personalize_sim.simulation._engine as engine

    monkeypatch.setattr(engine, "BLOCK_EVENTS", 20)
    expected = simulate("retail", users=300, days=2, rng=4, start="2026-01-05")
    frame = simulate_frame("retail", partitions=48, users=300, days=2, rng=4, start="2026-01-05")
    same_frame(frame.compute(), expected)


def test_parquet_written_by_the_workers_reads_back_as_simulate(client, tmp_path):
    files = write_parquet(simulate_frame("retail", partitions=3, **SIM), tmp_path / "dask")
    assert [f.name for f in files] == [f"part-{i:05d}.parquet" for i in range(4)][:3]
    write_single(simulate("retail", **SIM), tmp_path / "single.parquet")
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "dask"), pd.read_parquet(tmp_path / "single.parquet")
    )


def test_more_partitions_than_blocks_is_a_clear_error():
    with pytest.raises(ConfigError, match="at most 4: this simulation has 4 blocks"):
        simulate_frame("retail", partitions=5, **SIM)


def test_a_partitioned_stream_balances_its_merged_ledger_against_the_store(client):
    frame = simulate_frame("retail", partitions=3, **SIM)
    with LocalTracker(process=False) as tracker:
        target = FastTarget(endpoint_url=tracker.endpoint_url)
        result = stream(frame, rate=600, tracking_id=tracker.tracking_id, target=target)
        stored = tracker.events()
        stats = tracker.stats()
    ledger = result.ledger
    assert result.workers == 2 and not ledger.failures
    assert ledger.balanced and ledger.complete
    assert ledger.input_events == len(frame) == len(stored) == ledger.delivered_events
    assert stored["EVENT_ID"].is_unique and stats["duplicates"] == 0
    # each partition streamed once, partitions dealt round-robin to the two shares
    per_partition = result.log.groupby("partition")["share"].unique()
    assert {p: list(s) for p, s in per_partition.items()} == {0: [0], 1: [1], 2: [0]}
    delivered = result.log[result.log["outcome"] == "delivered"]
    assert delivered["events"].sum() == len(stored)
    assert stats["PutEventsRequests"] == len(result.log)


def test_more_workers_than_partitions_is_a_clear_error(client):
    frame = simulate_frame("retail", partitions=2, **SIM)
    with pytest.raises(ConfigError, match="at most 2: there are 2 partitions to share"):
        stream(frame, rate=100, tracking_id="t", target="memory", workers=3)


class DieOnce(distributed.WorkerPlugin):
    """Kills its worker process the first time a task named ``prefix`` starts executing
    (a marker file remembers it across the restarted worker)."""

    def __init__(self, prefix: str, marker: str) -> None:
        self.prefix, self.marker = prefix, marker

    def transition(self, key, start, finish, **kwargs):
        name = key[0] if isinstance(key, tuple) else key
        first = not os.path.exists(self.marker)
        if finish == "executing" and str(name).startswith(self.prefix) and first:
            Path(self.marker).touch()
            os._exit(1)


@pytest.fixture(scope="module")
def process_client():
    """Two worker processes (each restarted by its nanny when it dies)."""
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the plugin, by value
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_worker_lost_during_simulation_is_recomputed_and_the_frame_is_the_same(
    process_client, tmp_path
):
    marker = tmp_path / "died"
    process_client.register_plugin(DieOnce("personalize-sim-", str(marker)), name="die-once")
    try:
        frame = simulate_frame("retail", partitions=4, **SIM).compute()
    finally:
        process_client.unregister_worker_plugin("die-once")
    assert marker.exists()  # a worker did die mid-simulation
    same_frame(frame, simulate("retail", **SIM))


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_worker_killed_mid_stream_is_resumed_from_its_checkpoint(process_client, tmp_path):
    """The share is rerun by Dask, skipping what its checkpoint says was delivered; the
    ledger accounts for every event; the store holds each event once."""
    frame = simulate_frame("retail", partitions=4, **SIM)
    with LocalTracker() as tracker:
        target = FastTarget(endpoint_url=tracker.endpoint_url)
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(
                stream, frame, rate=150, tracking_id=tracker.tracking_id, target=target,
                client=process_client, checkpoint_dir=tmp_path,
            )  # fmt: skip
            victim = kill_a_streaming_worker(process_client, tmp_path)
            result = future.result(timeout=90)
        stored = tracker.events()
    ledger = result.ledger
    assert victim is not None
    assert ledger.balanced and ledger.complete, ledger
    assert ledger.resumed_events > 0  # delivered before the kill, not sent again
    assert ledger.input_events == len(frame) == len(stored)
    assert stored["EVENT_ID"].is_unique
    assert ledger.delivered_events + ledger.resumed_events == len(stored)


def kill_a_streaming_worker(client, folder: Path) -> str | None:
    """SIGKILL the worker streaming share 0 once its checkpoints hold 20 delivered requests."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        delivered = sum(
            len(f.read_bytes().splitlines()) for f in folder.glob("share-0000-partition-*.ids")
        )
        running = [
            addr for addr, keys in client.processing().items()
            if any(str(k).startswith("personalize-sim-stream-0-") for k in keys)
        ]  # fmt: skip
        if running and delivered >= 20:
            pid = client.run(os.getpid, workers=running)[running[0]]
            os.kill(pid, signal.SIGKILL)
            return running[0]
        time.sleep(0.02)
    return None


def test_a_share_that_fails_for_good_is_accounted_from_its_checkpoints(client, tmp_path):
    """The last partition has a bad row: its stream refuses it, after the first partitions
    were delivered. The ledger names the failure, counts the delivered events (from the
    checkpoints) and the rest as unsent, and still balances."""
    import dask.dataframe as dd

    events = simulate("retail", **SIM)
    events.loc[len(events) - 1, "EVENT_TYPE"] = ""  # not a valid event type
    frame = dd.from_pandas(events, npartitions=3, sort=False)
    with LocalTracker(process=False) as tracker:
        target = FastTarget(endpoint_url=tracker.endpoint_url)
        result = stream(
            frame, rate=2000, tracking_id=tracker.tracking_id, target=target, workers=1,
            checkpoint_dir=tmp_path,
        )  # fmt: skip
        stored = len(tracker.events())
    ledger = result.ledger
    assert len(ledger.failures) == 1 and "share 0: PayloadError" in ledger.failures[0]
    last = frame.partitions[2].compute()
    assert ledger.resumed_events == stored == len(events) - len(last)
    assert ledger.unsent_events == len(last) - 1  # the bad row is not an event to send
    assert ledger.balanced and not ledger.complete
