"""Achieved rates that are honest to the eye: an exactly paced stream draws a flat line.

Streams run in virtual time (``VirtualClock``): every send is exactly on its schedule, so
any wobble in the drawn line is the plot's, not the pacer's.
"""

from __future__ import annotations

import numpy as np
import pytest

from personalize_sim import plots, stream
from personalize_sim.clock import VirtualClock
from personalize_sim.plots import internal as plot_internal
from personalize_sim.streaming import Attempt, MemoryTarget
from personalize_sim.streaming.internal import DeliveryLog

from ..streaming.conftest import make_requests


def paced(rate: float, seconds: float):
    """A stream of ``rate`` one-event requests/s for ``seconds``, exactly on schedule."""
    n = round(rate * seconds)
    return stream(make_requests(n), rate=rate, target=MemoryTarget(), clock=VirtualClock(),
                  wait=True)  # fmt: skip


@pytest.mark.parametrize(("rate", "seconds"), [(25, 20), (33.4, 20), (1000, 8)])
def test_an_exact_stream_draws_a_flat_achieved_line(rate, seconds):
    """The sawtooth (24, 26, 24… at 25/s in 0.5 s bins; 16, 17… at 33.4/s) is gone: every
    bin after the first is within 1 % of the target, in the plot, the series and the
    dashboard's chart (they share the series)."""
    handle = paced(rate, seconds)
    s = plot_internal.series(handle.log)
    achieved = s.achieved[np.isfinite(s.achieved)]
    error = np.abs(achieved / rate - 1)
    assert len(achieved) >= 10
    assert error[1:].max() < 0.01, (s.edges[1] - s.edges[0], np.round(achieved, 2).tolist())
    # what the figure draws is that series
    line = plots.rate(handle.log).axes[0].patches[0]  # the achieved stairs
    drawn = line.get_data().values
    np.testing.assert_allclose(drawn[np.isfinite(drawn)][1:], rate, rtol=0.01)


def test_raw_counts_per_bin_stay_available():
    """The counts behind the line are kept: at 25/s in 0.5 s bins they alternate 12 and 13."""
    handle = paced(25, 20)
    s = plot_internal.series(handle.log, bin_width=0.5)
    counts = s.counts[np.isfinite(s.achieved)]
    assert counts.sum() == 500
    assert set(counts[1:-1].tolist()) == {12, 13}
    np.testing.assert_allclose(s.achieved[1:-1], 25.0, rtol=1e-9)
    assert handle.per_second()["sent"].tolist()[:3] == [25, 25, 25]  # per second, exactly


def test_a_stall_shows_as_a_dip_not_as_a_flat_line():
    """Honest both ways: a 3 s gap in a 10/s stream reads far below target in those bins."""
    log = DeliveryLog()
    times = [i / 10 for i in range(50)] + [8.0 + i / 10 for i in range(50)]
    for t in times:
        log.add(Attempt("r", 1, 0, 1, t, t, t, t + 0.001, 200, "", "", "delivered", False,
                        10.0, 0))  # fmt: skip
    s = plot_internal.series(log, bin_width=1.0)
    assert s.achieved[:4] == pytest.approx([10.0] * 4)
    assert (s.achieved[5:8] < 1.0).all()  # one send spread over the 3.1 s gap
    assert s.achieved[9:13] == pytest.approx([10.0] * 4)


def test_a_burst_counts_for_the_interval_it_stands_for():
    """Sends that leave in bursts of five every half second are 10/s, drawn flat."""
    log = DeliveryLog()
    for k in range(40):
        for _ in range(5):
            t = k * 0.5
            log.add(Attempt("r", 1, 0, 1, t, t, t, t, 200, "", "", "delivered", False, 10.0, 0))
    s = plot_internal.series(log, bin_width=1.0)
    assert s.achieved[np.isfinite(s.achieved)] == pytest.approx([10.0] * 20)
