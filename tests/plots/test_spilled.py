"""The delivery plots read a long run straight from the delivery log's Arrow spill."""

from __future__ import annotations

import numpy as np
import pytest

from personalize_sim import plots
from personalize_sim.clock import VirtualClock
from personalize_sim.plots import internal as plot_internal
from personalize_sim.streaming import MemoryTarget, constant, open_stream
from personalize_sim.widgets import Dashboard

from ..streaming.conftest import make_requests


def throttle_some(request, attempt):
    return "ThrottlingException" if request["sessionId"] == "s0" and attempt == 1 else None


@pytest.fixture(scope="module")
def spilled():
    """600 requests at 50/s in virtual time, the log spilling every 64 records."""
    handle = open_stream(make_requests(600, sessions=5), rate=50, clock=VirtualClock(),
                         target=MemoryTarget(throttle_some), rng=1)  # fmt: skip
    handle.delivery_log.spill_every = 64
    handle.start().wait(timeout=60)
    return handle


def test_the_log_spilled(spilled):
    log = spilled.delivery_log
    assert log.kept == spilled.summary.attempts == 720  # 120 throttled once
    assert len(log.records) < 64  # the rest is in the spill file


def test_the_series_from_the_spill_equals_the_one_from_the_frame(spilled):
    frame = plot_internal.series(spilled.log)
    for source in (spilled, spilled.delivery_log):
        s = plot_internal.series(source)
        np.testing.assert_array_equal(s.edges, frame.edges)
        np.testing.assert_array_equal(s.counts, frame.counts)
        np.testing.assert_allclose(s.achieved, frame.achieved)
        np.testing.assert_array_equal(s.target, frame.target)
        for name in ("p50", "p90", "p99"):
            np.testing.assert_allclose(s.intended[name], frame.intended[name])
        assert s.errors.keys() == frame.errors.keys() == {"ThrottlingException"}
        assert s.errors["ThrottlingException"].sum() * (s.edges[1] - s.edges[0]) == 120
    assert frame.counts.sum() == 600


def test_the_spill_is_read_a_batch_of_columns_at_a_time(spilled):
    batches = list(spilled.delivery_log.batches(columns=("sent", "attempt")))
    assert len(batches) > 10 and all(b.schema.names == ["sent", "attempt"] for b in batches)
    assert max(b.num_rows for b in batches) <= 64
    assert sum(b.num_rows for b in batches) == 720


def test_delivery_draws_from_a_handle_and_a_log(spilled):
    from_handle = plots.delivery(spilled).axes[0].patches[0].get_data().values
    from_frame = plots.delivery(spilled.log).axes[0].patches[0].get_data().values
    np.testing.assert_allclose(from_handle, from_frame)


def test_a_dashboard_attached_after_records_spilled_charts_the_whole_run(spilled):
    dash = Dashboard(spilled)
    assert dash.records_seen == spilled.summary.attempts  # not only the records in memory
    s = dash.series
    assert s.counts.sum() == 600 and s.edges[0] == 0.0
    assert s.edges[-1] >= 600 / 50 - 0.02  # the chart reaches the end of the run


def test_a_stream_with_events_as_its_unit_reads_the_same():
    handle = open_stream(make_requests(200, events=3), rate=constant(60, per="events"),
                         clock=VirtualClock(), target=MemoryTarget())  # fmt: skip
    handle.delivery_log.spill_every = 50
    handle.start().wait(timeout=60)
    s = plot_internal.series(handle)
    assert s.unit == "events" and s.counts.sum() == 600
    finite = s.achieved[np.isfinite(s.achieved)]
    np.testing.assert_allclose(finite[1:], 60.0, rtol=0.01)
