"""What the dashboard shows, computed from a stream's summary and its attempt records:
the counters, live rate and latency estimates, the HTML of the rate line and the error
table, and the charts (drawn with the plots' own series and drawing functions)."""

from __future__ import annotations

import collections
import html
import io
import math
from typing import Any

from .._latency import LatencySummary
from ..streaming import DeliverySummary

__all__ = [
    "CHART_SIZE",
    "COUNTERS",
    "chart_figure",
    "charts",
    "counters",
    "errors_html",
    "estimates",
    "number_of",
    "percentiles_ms",
    "rates_html",
]

#: counters shown, in order: (key, label)
COUNTERS = (
    ("input", "input events"),
    ("sent", "sent requests"),
    ("delivered", "delivered events"),
    ("in_flight", "in flight requests"),
    ("retried", "retried attempts"),
    ("throttled", "throttled attempts"),
    ("dead_lettered", "dead-lettered events"),
    ("pending", "pending events"),
)


def counters(summary: DeliverySummary) -> dict[str, int]:
    """The dashboard's counters, computed from a stream's summary."""
    sent = summary.sent_requests
    finished = summary.delivered_requests + summary.dead_letter_requests
    return {
        "input": summary.input_events,
        "sent": sent,
        "delivered": summary.delivered_events + summary.resumed_events,
        "in_flight": max(sent - finished, 0),
        "retried": summary.retried,
        "throttled": summary.throttled,
        "dead_lettered": summary.dead_letter_events,
        "pending": summary.pending_events,
    }


#: each chart's size in inches (SVG points: 324 × 234 pt, 432 × 312 px), two side by side
#: in a notebook's default width; narrower, they wrap one under the other and shrink to fit
CHART_SIZE = (4.5, 3.25)


def charts(series: Any) -> tuple[str, str]:
    """The rate and the latency chart of ``series`` as inline SVG (text kept as text, so
    the browser draws the labels and a test can find them), laid out as the static plots."""
    from ..plots import internal as plots

    return (
        _svg(series, plots.draw_rate, "ps-chart-rate"),
        _svg(series, plots.draw_latency, "ps-chart-latency"),
    )


def chart_figure(series: Any, draw: Any) -> Any:
    """One chart of the dashboard as a Figure: ``draw`` (a plots drawing function) with its
    legend below, in the constrained layout the static figures use."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=CHART_SIZE, dpi=72, layout="constrained")
    draw(fig.add_subplot(), series, legend="below")
    return fig


def _svg(series: Any, draw: Any, name: str) -> str:
    import matplotlib

    fig = chart_figure(series, draw)
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]  # no XML prolog or doctype inside HTML
    # scale down with the widget, never up; height follows the viewBox
    return svg.replace(
        "<svg ", f"<svg class='{name}' style='max-width:100%;height:auto;display:block' ", 1
    )


def estimates(frame: Any, unit: str) -> dict[str, Any]:
    """Achieved rate and latency percentiles from the records seen (while running).

    The same definitions as :class:`~personalize_sim.streaming.DeliverySummary`'s, computed
    with numpy from the records instead of its HDR histograms, so the live view never holds
    the log's lock long.
    """
    import numpy as np

    first = frame[frame["attempt"] == 1]
    units = first["events"].to_numpy(float) if unit == "events" else np.ones(len(first))
    sent = first["sent"].to_numpy(float)
    achieved = math.nan
    if len(sent) > 1 and sent.max() > sent.min():
        last = units[np.argmax(sent)]
        achieved = (units.sum() - last) / (sent.max() - sent.min())
    delivered = frame[frame["outcome"] == "delivered"]
    intended = (delivered["finished"] - delivered["intended"]).to_numpy(float) * 1000
    service = (frame["finished"] - frame["sent"]).to_numpy(float) * 1000
    return {
        "achieved_rate": achieved,
        "latency_intended": percentiles_ms(intended),
        "latency_service": percentiles_ms(service),
    }


def percentiles_ms(values: Any) -> LatencySummary:
    import numpy as np

    if len(values) == 0:
        return LatencySummary(count=0)
    p50, p90, p99 = np.percentile(values, (50, 90, 99))
    return LatencySummary(count=len(values), p50=float(p50), p90=float(p90), p99=float(p99))


def number_of(cell_html: str) -> int:
    """The number shown in a counter cell."""
    start = cell_html.index(">") + 1
    return int(cell_html[start : cell_html.index("<", start)].replace(",", ""))


def rates_html(s: DeliverySummary) -> str:
    unit = "req" if s.unit == "requests" else "ev"
    target, achieved = s.target_rate, s.achieved_rate

    parts = [
        f"<b>rate</b> target {'–' if target is None else f'{target:.4g}'} {unit}/s, "
        f"achieved {f'{achieved:.4g}' if math.isfinite(achieved) else '–'}"
        f" {unit}/s",
        f"<b>latency</b> p50/p90/p99 from intended time {s.latency_intended.describe()} ms, "
        f"service {s.latency_service.describe()} ms",
    ]
    if str(s.limited_by) != "none":
        who = "the client is the bottleneck" if s.bottleneck else "the tracker is the limit"
        advice = s.advice()
        parts.append(
            f"<b style='color:#b00'>{who}</b> ({html.escape(str(s.limited_by))}: "
            f"{html.escape(s.diagnosis)})" + (f"; {html.escape(advice)}" if advice else "")
        )
    return " · ".join(parts)


def errors_html(errors: collections.Counter[str]) -> str:
    if not errors:
        return "<i>no errors</i>"
    rows = "".join(
        f"<tr><td>{html.escape(code)}</td><td style='text-align:right'>{n:,}</td></tr>"
        for code, n in errors.most_common()
    )
    return (
        "<table class='ps-errors-table'><tr><th>error code</th><th>attempts</th></tr>"
        f"{rows}</table>"
    )
