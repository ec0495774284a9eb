"""plots: figures from delivery logs (exact series under a virtual clock) and events frames."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from personalize_sim import plots, simulate, stream
from personalize_sim.clock import VirtualClock
from personalize_sim.plots import internal as plot_internal
from personalize_sim.streaming import Attempt, MemoryTarget
from personalize_sim.streaming.internal import DeliveryLog

from .streaming.conftest import make_requests


def requests(n: int) -> list[dict]:
    return make_requests(n, events=2, sessions=4)


@pytest.fixture(scope="module")
def throttled_handle():
    """40 requests at 10/s in virtual time; every 4th request is throttled once, then accepted."""

    def respond(request, attempt):
        return "ThrottlingException" if request["sessionId"] == "s0" and attempt == 1 else None

    return stream(requests(40), rate=10, target=MemoryTarget(respond), clock=VirtualClock(),
                  rng=1, wait=True)  # fmt: skip


@pytest.fixture(scope="module")
def frame():
    return simulate("retail", users=300, days=2, rng=3)


def attempt(*, sent: float, latency: float, outcome="delivered", code="", attempt_no=1, events=1):
    status = 200 if not code else 400
    return Attempt("r", attempt_no, 0, events, sent, sent, sent, sent + latency, status, code, "",
                   outcome, False, 5.0, 0)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# delivery


def test_series_of_a_virtual_stream_is_exact(throttled_handle):
    s = plot_internal.series(throttled_handle.log, bin_width=1.0)
    # sends at 0.0, 0.1 … 3.9: ten first attempts in each of four seconds from the first
    assert s.edges[:5] == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert s.achieved[:4] == pytest.approx([10.0, 10.0, 10.0, 10.0])
    assert list(s.counts[:4]) == [10, 10, 10, 10]
    assert list(s.target[:4]) == [10.0, 10.0, 10.0, 10.0]
    assert set(s.errors) == {"ThrottlingException"}
    assert s.errors["ThrottlingException"].sum() == throttled_handle.summary.throttled == 10
    assert s.unit == "requests"


def test_series_counts_events_when_the_unit_is_events(throttled_handle):
    s = plot_internal.series(throttled_handle.log, unit="events", bin_width=1.0)
    assert s.achieved[:4] == pytest.approx([20.0, 20.0, 20.0, 20.0])  # two events a request


def test_series_reads_a_handle_and_a_delivery_log(throttled_handle):
    from_frame = plot_internal.series(throttled_handle.log, bin_width=0.5)
    from_handle = plot_internal.series(throttled_handle, bin_width=0.5)
    from_log = plot_internal.series(throttled_handle.delivery_log, bin_width=0.5)
    for other in (from_handle, from_log):
        np.testing.assert_array_equal(other.achieved, from_frame.achieved)
        np.testing.assert_array_equal(other.edges, from_frame.edges)


def test_latency_percentiles_per_bin():
    log = DeliveryLog()
    for i in range(100):  # second 0: latencies 1..100 ms; second 1: all 500 ms
        log.add(attempt(sent=i / 200, latency=(i + 1) / 1000))
    log.add(attempt(sent=1.2, latency=0.5))
    s = plot_internal.series(log.frame(), bin_width=1.0)
    # from histograms with buckets 1 % apart: within half a bucket
    close = {"rel": 0.005, "abs": 0.1}
    assert s.intended["p50"][0] == pytest.approx(np.percentile(np.arange(1, 101), 50), **close)
    assert s.intended["p99"][0] == pytest.approx(np.percentile(np.arange(1, 101), 99), **close)
    assert s.intended["p50"][1] == pytest.approx(500.0, rel=0.005)
    assert s.service["p99"][1] == pytest.approx(500.0, rel=0.005)


def test_failed_attempts_do_not_count_as_delivered_latency():
    log = DeliveryLog()
    log.add(attempt(sent=0.0, latency=0.9, outcome="retry", code="ThrottlingException"))
    log.add(attempt(sent=0.5, latency=0.01, attempt_no=2))
    s = plot_internal.series(log.frame(), bin_width=1.0)
    assert s.intended["p50"][0] == pytest.approx(10.0, rel=0.005)  # 0.51 − intended 0.5
    assert s.counts[0] == 1  # the retry is not a new send
    assert s.errors["ThrottlingException"][0] == 1.0


def test_bin_width_keeps_at_most_sixty_bins():
    assert plot_internal.default_bin_width(4.0) == 0.1
    assert plot_internal.default_bin_width(20.0) == 0.5
    assert plot_internal.default_bin_width(60.0) == 1.0
    assert plot_internal.default_bin_width(3600.0) == 60.0
    for duration in (0.5, 7.3, 100.0, 1e5):
        assert duration / plot_internal.default_bin_width(duration) <= 60
    assert plot_internal.default_bin_width(2.0, sends=80) == 0.25  # ten sends per bin at 40/s
    assert plot_internal.default_bin_width(2.0, sends=10_000) == 0.1
    assert plot_internal.default_bin_width(60.0, sends=60) == 10.0


def test_delivery_figure_has_three_labelled_panels(throttled_handle):
    fig = plots.delivery(throttled_handle.log)
    assert isinstance(fig, Figure)
    rate_ax, latency_ax, errors_ax = fig.axes
    assert rate_ax.get_ylabel() == "requests/s"
    assert [t.get_text() for t in rate_ax.get_legend().get_texts()] == ["achieved", "target"]
    assert "latency" in latency_ax.get_title()
    assert [t.get_text() for t in errors_ax.get_legend().get_texts()] == ["ThrottlingException"]


def test_delivery_says_when_there_are_no_errors():
    handle = stream(requests(10), rate=10, target=MemoryTarget(), clock=VirtualClock(),
                    wait=True)  # fmt: skip
    fig = plots.delivery(handle.log)
    assert any(t.get_text() == "no errors" for t in fig.axes[2].texts)


@pytest.mark.parametrize("name", ["rate", "latency", "error_codes"])
def test_single_delivery_plots_use_the_given_ax_even_in_a_subfigure(throttled_handle, name):
    fig = Figure()
    ax = fig.subfigures(1, 2)[1].add_subplot()
    assert getattr(plots, name)(throttled_handle.log, ax=ax) is fig
    assert ax.has_data()


def test_empty_delivery_log_is_a_clear_error():
    empty = DeliveryLog().frame()
    with pytest.raises(ValueError, match="a delivery log with rows to plot"):
        plots.delivery(empty)


def test_wrong_delivery_log_names_the_missing_columns():
    with pytest.raises(
        ValueError,
        match=r"^frame: got <DataFrame of \d+ rows: .*>; a delivery log with the columns "
        r"\['attempt', 'sent'",
    ) as info:
        plots.rate(pd.DataFrame({"events": [1], "target_rate": [1.0]}))
    assert "handle.log" in str(info.value)
    with pytest.raises(TypeError, match=r"^log: got \[1, 2, 3\]; handle.log"):
        plots.delivery([1, 2, 3])
    with pytest.raises(ValueError, match=r"^unit: got"):
        plot_internal.series(DeliveryLog().frame(), unit="bytes")


# ---------------------------------------------------------------------------------------------
# simulation


def test_sessions_by_hour_and_weekday_count_every_session_once(frame):
    n = frame["SESSION_ID"].nunique()
    for by, bars in (("hour", 24), ("weekday", 7)):
        fig = plots.sessions(frame, by=by, timezone="America/New_York")
        patches = fig.axes[0].patches
        assert len(patches) == bars
        assert sum(p.get_height() for p in patches) == n
    with pytest.raises(ValueError, match=r"^by: got 'month'; one of 'hour', 'weekday'"):
        plots.sessions(frame, by="month")


def test_sessions_follow_the_time_zone(frame):
    utc = [p.get_height() for p in plots.sessions(frame, timezone="UTC").axes[0].patches]
    ny = [
        p.get_height() for p in plots.sessions(frame, timezone="America/New_York").axes[0].patches
    ]
    assert utc != ny and sorted(utc) != [0] * 24


def test_funnel_shares_are_sessions_reaching_each_type(frame):
    fig = plots.funnel(frame, steps=["View", "AddToCart", "ViewCart"])
    bars = [p.get_width() for p in fig.axes[0].patches]
    n = frame["SESSION_ID"].nunique()
    reach = frame.groupby("EVENT_TYPE")["SESSION_ID"].nunique()
    assert bars == pytest.approx([reach["View"] / n, reach["AddToCart"] / n, reach["ViewCart"] / n])
    assert bars[0] == 1.0  # every retail session starts with a View
    with pytest.raises(ValueError, match=r"^steps: got \['Teleport'\]; event types of the frame"):
        plots.funnel(frame, steps=["View", "Teleport"])


def test_popularity_is_rank_frequency_on_log_log_axes(frame):
    ax = plots.popularity(frame).axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    x, y = ax.lines[0].get_data()
    assert list(x[:3]) == [1, 2, 3]
    assert list(y) == sorted(frame["ITEM_ID"].value_counts(), reverse=True)


def test_click_through_by_position_is_clicks_per_slate(frame):
    ax = plots.click_through(frame).axes[0]
    heights = [p.get_height() for p in ax.patches]
    slates = frame[frame["IMPRESSION"].map(lambda v: v is not None and len(v) > 0)]
    first = (slates["position"] == 0).sum() / len(slates)
    assert len(heights) == 10  # the retail slate size
    assert heights[0] == pytest.approx(first)
    assert heights[0] > heights[-1]  # the examination curve favours the top


def test_attribution_counts_events_by_source(frame):
    ax = plots.attribution_sources(frame).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    widths = dict(zip(labels, (p.get_width() for p in ax.patches), strict=True))
    assert widths["(none)"] == frame["EVENT_ATTRIBUTION_SOURCE"].isna().sum()
    assert (
        widths["recommended-for-you"]
        == (frame["EVENT_ATTRIBUTION_SOURCE"] == "recommended-for-you").sum()
    )


def test_simulation_overview_has_six_panels(frame):
    fig = plots.traffic(frame)
    assert len(fig.axes) == 6
    assert all(ax.has_data() for ax in fig.axes)


def test_simulation_plots_name_missing_columns(frame):
    sent = frame.drop(columns=["position"])  # what survives a round trip through the tracker
    with pytest.raises(
        ValueError, match=r"the columns \['position'\] too; position is ground truth"
    ):
        plots.click_through(sent)
    with pytest.raises(ValueError, match=r"the columns \['SESSION_ID', 'TIMESTAMP'\] too"):
        plots.sessions(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="an events frame with rows to plot"):
        plots.funnel(frame.iloc[:0])
    with pytest.raises(TypeError, match="pandas DataFrame"):
        plots.attribution_sources({"EVENT_ATTRIBUTION_SOURCE": ["a"]})


def test_plots_never_touch_pyplot():
    code = (
        "import sys; from personalize_sim import plots, simulate;"
        "f = simulate('retail', users=50, days=1, rng=1); plots.traffic(f);"
        "print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_quiet_seconds_read_low_and_hold_the_target():
    log = DeliveryLog()
    for t in [0.0, 0.2, 0.4, 0.6, 0.8, 4.0, 4.2, 4.4, 4.6, 4.8]:  # 5/s, 3.2 s quiet, 5/s
        log.add(attempt(sent=t, latency=0.001))
    s = plot_internal.series(log.frame(), bin_width=1.0)
    # 0.8 s of sends, then 0.2 s of the interval to the next: 4 + 0.2 / 3.2 sends
    assert s.achieved[[0, 4]] == pytest.approx([4.0625, 5.0])
    assert (s.achieved[1:4] <= 0.35).all()  # one send over the 3.2 s gap, not missing
    assert list(s.counts) == [5, 0, 0, 0, 5]
    assert list(s.target) == [5.0] * 5  # the target holds while nothing is sent


def test_sends_near_bin_edges_keep_an_even_rate():
    """A paced stream whose sends lag by microseconds must not read 26, 24, 26 … per second."""
    log = DeliveryLog()
    rng = np.random.default_rng(0)
    for i in range(100):  # 25/s from t=0.3, each send 0–2 ms late, edges near whole seconds
        log.add(attempt(sent=0.3 + i / 25 + rng.uniform(0, 0.002), latency=0.003))
    s = plot_internal.series(log.frame(), bin_width=1.0)
    assert s.achieved == pytest.approx([25.0] * len(s.achieved), rel=0.002)


def test_the_last_bin_counts_only_the_time_spent_sending():
    log = DeliveryLog()
    for i in range(25):  # 10/s for 2.5 s: the third bin is half a bin of sending
        log.add(attempt(sent=i / 10, latency=0.001))
    s = plot_internal.series(log.frame(), bin_width=1.0)
    assert s.achieved == pytest.approx([10.0, 10.0, 10.0])


# ---------------------------------------------------------------------------------------------
# figures show as pictures


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _shown(fig) -> dict:
    """What a Jupyter front end receives for ``fig`` as a cell's value (IPython's formatters)."""
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(fig)
    return data


@pytest.mark.parametrize(
    "draw",
    [
        lambda log, frame: plots.delivery(log),
        lambda log, frame: plots.rate(log),
        lambda log, frame: plots.latency(log),
        lambda log, frame: plots.error_codes(log),
        lambda log, frame: plots.traffic(frame),
        lambda log, frame: plots.sessions(frame),
        lambda log, frame: plots.funnel(frame),
        lambda log, frame: plots.popularity(frame),
        lambda log, frame: plots.click_through(frame),
        lambda log, frame: plots.attribution_sources(frame),
    ],
)
def test_every_figure_shows_as_one_picture_without_pyplot(throttled_handle, frame, draw):
    fig = draw(throttled_handle.log, frame)
    data = _shown(fig)
    assert data["image/png"].startswith(PNG_SIGNATURE)
    assert set(data) == {"text/plain", "image/png"}  # one picture, no second copy


def test_a_figure_shows_once_when_pyplot_inline_is_loaded_too(frame):
    code = (
        "from IPython.core.interactiveshell import InteractiveShell;"
        "shell = InteractiveShell.instance();"
        "from IPython.core.pylabtools import select_figure_formats;"
        "select_figure_formats(shell, {'png'});"  # what the inline backend registers
        "from personalize_sim import plots, simulate;"
        "f = simulate('retail', users=30, days=1, rng=1);"
        "data, _ = shell.display_formatter.format(plots.popularity(f));"
        "print(sorted(data))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['image/png', 'text/plain']"


def test_saving_a_figure_is_unchanged(frame, tmp_path):
    fig = plots.popularity(frame)
    fig.savefig(tmp_path / "p.png")
    fig.savefig(tmp_path / "p.svg")
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_SIGNATURE)
    assert b"<svg" in (tmp_path / "p.svg").read_bytes()[:500]


def test_delivery_lines_tell_apart_and_legends_stay_off_the_data(throttled_handle):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plots.delivery(throttled_handle.log)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    latency_ax = fig.axes[1]
    styles = [(line.get_color(), line.get_linestyle()) for line in latency_ax.get_lines()]
    assert len(styles) == 5 and len(set(styles)) == 5  # p50/p90/p99 intended, p50/p99 service
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            overlap = legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
            assert not overlap, ax.get_title()


def test_multi_panel_plots_draw_on_a_given_figure_or_subfigure(throttled_handle, frame):
    fig = plots.figure(figsize=(12, 6))
    left, right = fig.subfigures(1, 2)
    assert plots.delivery(throttled_handle.log, fig=left) is fig
    assert plots.traffic(frame, fig=right) is fig
    assert len(left.axes) == 3 and len(right.axes) == 6


def test_simulation_plots_default_to_the_simulations_time_zone():
    frame = simulate("retail", users=100, days=1, rng=3, timezone="America/New_York")
    assert frame.attrs["timezone"] == "America/New_York"
    ax = plots.sessions(frame).axes[0]
    assert ax.get_xlabel() == "hour of day (America/New_York)"
    assert plots.sessions(frame, timezone="UTC").axes[0].get_xlabel() == "hour of day (UTC)"
