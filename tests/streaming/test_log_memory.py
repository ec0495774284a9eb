"""The delivery log keeps memory flat: records spill to a temporary Arrow file in batches."""

from __future__ import annotations

import gc
import os

import numpy as np
import pandas as pd
import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.streaming import MemoryTarget, _log

from .conftest import make_requests

pytestmark = pytest.mark.timeout(60)


def failing_twice(request, attempt):
    return "ThrottlingException" if attempt <= 2 and request["sessionId"] == "s1" else None


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(_log, "SPILL_EVERY", 100)


def test_records_spill_in_batches_and_the_whole_log_comes_back(small_batches, rng):
    seen = []
    handle = stream(make_requests(1000), rate=1000, target=MemoryTarget(failing_twice),
                    clock=VirtualClock(), rng=rng, listeners=[seen.append], wait=True)  # fmt: skip
    log = handle.delivery_log
    assert len(log.records) < 100  # the rest is on disk
    assert log.kept == len(seen) == handle.summary.attempts > 1000
    frame = handle.log
    assert list(frame["request_id"]) == [r.request_id for r in seen]
    assert list(frame["outcome"]) == [str(r.outcome) for r in seen]
    assert frame["sent"].tolist() == [r.sent for r in seen]
    assert (frame["attempt"] > 1).sum() == handle.summary.retried
    assert str(frame["request_id"].dtype) == "string" and frame["missed"].dtype == bool


def test_write_copies_every_record_as_parquet_or_csv(small_batches, tmp_path):
    handle = stream(make_requests(450), rate=1000, target=MemoryTarget(), clock=VirtualClock(),
                    wait=True)  # fmt: skip
    frame = handle.log
    assert handle.delivery_log.write(tmp_path / "log.parquet") == 450
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "log.parquet"), frame)
    assert handle.delivery_log.write(tmp_path / "log.csv") == 450
    back = pd.read_csv(tmp_path / "log.csv", keep_default_na=False)
    assert list(back["request_id"]) == list(frame["request_id"])
    assert back["missed"].dtype == bool and len(back.columns) == len(frame.columns)


def test_the_spill_file_goes_with_the_log(small_batches):
    handle = stream(make_requests(300), rate=1000, target=MemoryTarget(), clock=VirtualClock(),
                    wait=True)  # fmt: skip
    path = handle.delivery_log._spill.path
    assert os.path.exists(path)
    del handle
    gc.collect()
    assert not os.path.exists(path)


def test_max_records_keeps_a_window_and_nothing_on_disk(small_batches):
    handle = stream(make_requests(300), rate=1000, target=MemoryTarget(), clock=VirtualClock(),
                    max_records=50, wait=True)  # fmt: skip
    assert handle.delivery_log._spill is None
    assert len(handle.log) == 50 and handle.summary.delivered_requests == 300
    assert handle.log["request_id"].iloc[-1] == handle.delivery_log.records[-1].request_id


def test_latencies_recorded_in_bulk_give_the_histogram_of_one_at_a_time(rng):
    from personalize_sim._latency import LatencyHistogram

    seconds = np.concatenate([
        rng.lognormal(np.log(0.005), 2.0, 20_000),  # 1 µs … minutes, every HDR magnitude
        [-1.0, 0.0, 1e-7, 5_000.0, 0.002047, 0.002048, 0.004095, 0.004096],  # clamps, edges
    ])  # fmt: skip
    one, bulk = LatencyHistogram(), LatencyHistogram()
    for s in seconds:
        one.record(float(s))
    for part in np.array_split(seconds, 7):
        bulk.record_many(part.tolist())
    assert bulk.summary() == one.summary()
    assert list(bulk._h.counts) == list(one._h.counts)  # the very same buckets


def test_summaries_include_latencies_not_yet_recorded_in_bulk():
    handle = stream(make_requests(10), rate=1000, target=MemoryTarget(), clock=VirtualClock(),
                    wait=True)  # fmt: skip
    s = handle.summary
    assert s.latency_service.count == 10 and s.latency_intended.count == 10
    assert handle.live_summary().latency_service.count == 10
