"""Every public figure, and the dashboard's two charts, checked as pictures.

* No text artist (title, axis label, tick label, legend entry, annotation) falls outside its
  figure's canvas: ``savefig`` without ``bbox_inches="tight"`` would cut it, and so would a
  chart drawn at a fixed size.
* Each looks as its stored baseline (``tests/plots/baseline/*.png``) within a tolerance:
  ``matplotlib.testing.compare.compare_images`` (RMS of the pixel differences), with the text
  hidden once the layout has made room for it (its raster differs between matplotlib
  releases; its words and place are checked above and by each plot's tests). The inputs
  are seeded or run in virtual time, so the pictures only change when the drawing does;
  after a deliberate change write them anew with ``PERSONALIZE_SIM_NEW_BASELINES=1`` and
  look at them. The pictures drawn are saved beside the diff of any that fails (under
  ``$PERSONALIZE_SIM_ARTIFACTS`` when set, else tmp_path).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.testing.compare import compare_images

from personalize_sim import plots, simulate, stream
from personalize_sim.attribution import scenario
from personalize_sim.calibration import realism_report
from personalize_sim.clock import VirtualClock
from personalize_sim.closed_loop import LoopConfig, OnlineArms, loop_metrics, run_loop
from personalize_sim.plots import internal as plot_internal
from personalize_sim.streaming import MemoryTarget
from personalize_sim.widgets import _panels

from ..streaming.conftest import make_requests

BASELINES = Path(__file__).parent / "baseline"
#: RMS of pixel differences (0–255) left once each picture is matched within SHIFT pixels
#: of the other: at most 3 between the newest matplotlib, numpy and pandas and the lowest
#: pyproject allows (CI runs both), 9–19 for a line or bars gone
TOLERANCE = 4
#: pixels a line may move between matplotlib releases and still match (see _compare)
SHIFT = 4
DPI = 40  # small baselines


@pytest.fixture(scope="module")
def inputs() -> dict[str, Any]:
    def throttle(request, attempt):
        return "ThrottlingException" if request["sessionId"] == "s0" and attempt == 1 else None

    handle = stream(make_requests(300, sessions=7), rate=25, target=MemoryTarget(throttle),
                    clock=VirtualClock(), rng=1, wait=True)  # fmt: skip
    shop = simulate("retail", users=150, days=2, rng=3)
    ab = scenario("over-crediting").run(rng=2, users=300, days=3)
    real = simulate("retail", users=150, days=3, rng=5).assign(USER_ID=lambda f: f["true_user_id"])
    synthetic = simulate("retail", users=150, days=3, rng=6)
    synthetic = synthetic.assign(USER_ID=synthetic["true_user_id"])
    loop = run_loop(LoopConfig(users=40, items=30, days=3, new_items_per_day=2),
                    OnlineArms({"pop": "popularity", "dice": "random"}, rng=0), rng=0)  # fmt: skip
    return {
        "handle": handle,
        "frame": shop,
        "ab": ab,
        "realism": realism_report(real, synthetic, timezone="UTC"),
        "loop": loop_metrics(loop),
    }


def _chart(draw: Callable[..., None]) -> Callable[[dict[str, Any]], Any]:
    return lambda i: _panels.chart_figure(plot_internal.series(i["handle"]), draw)


#: every public figure (and the dashboard's charts), drawn from the inputs
FIGURES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "delivery": lambda i: plots.delivery(i["handle"]),
    "rate": lambda i: plots.rate(i["handle"]),
    "latency": lambda i: plots.latency(i["handle"]),
    "error_codes": lambda i: plots.error_codes(i["handle"]),
    "traffic": lambda i: plots.traffic(i["frame"]),
    "sessions": lambda i: plots.sessions(i["frame"]),
    "funnel": lambda i: plots.funnel(i["frame"]),
    "popularity": lambda i: plots.popularity(i["frame"]),
    "click_through": lambda i: plots.click_through(i["frame"]),
    "attribution_sources": lambda i: plots.attribution_sources(i["frame"]),
    "attribution_windows": lambda i: plots.attribution_windows(i["ab"].report.table,
                                                               metric="views"),
    "attribution_windows_per_day": lambda i: plots.attribution_windows(
        i["ab"].report.table, metric="views", cumulative=False),
    "attribution_totals": lambda i: plots.attribution_totals(i["ab"].report.table),
    "attribution_counts": lambda i: plots.attribution_counts(i["ab"].report.counts),
    "attributed_vs_incremental": lambda i: plots.attributed_vs_incremental(i["ab"].effects.table),
    "realism": lambda i: plots.realism(i["realism"]),
    "realism_row": lambda i: plots.realism_row(i["realism"], "hourly_profile"),
    "loop": lambda i: plots.loop(i["loop"]),
    "dashboard_rate": _chart(plot_internal.draw_rate),
    "dashboard_latency": _chart(plot_internal.draw_latency),
}  # fmt: skip


def test_every_public_figure_is_checked():
    drawn = {name.removesuffix("_per_day") for name in FIGURES}
    assert drawn >= set(plots.__all__) - {"figure"}


def _texts(fig: Any) -> list[Any]:
    """Every text a figure draws: its own, its legends', and each axes' titles, labels,
    visible tick labels, annotations and legend."""
    out = [*fig.texts, *(t for leg in fig.legends for t in (*leg.get_texts(), leg.get_title()))]
    for sub in fig.subfigs:
        out += _texts(sub)
    for ax in fig.axes if fig.figure is fig else []:
        out += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for i, axis in enumerate((ax.xaxis, ax.yaxis)):
            low, high = sorted(axis.get_view_interval())
            slack = (high - low) * 1e-9
            # the labels of ticks inside the view: the locator's others are not drawn
            out += [label for label in axis.get_ticklabels(which="both")
                    if low - slack <= label.get_position()[i] <= high + slack]  # fmt: skip
        legend = ax.get_legend()
        if legend is not None:
            out += [*legend.get_texts(), legend.get_title()]
    return [t for t in out if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", FIGURES)
def test_no_text_falls_outside_the_canvas(inputs, name):
    fig = FIGURES[name](inputs)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    texts = _texts(fig)
    assert texts, name
    outside = []
    for text in texts:
        extent = text.get_window_extent(renderer)
        if not (extent.x0 >= box.x0 - 1 and extent.x1 <= box.x1 + 1
                and extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1):  # fmt: skip
            outside.append((text.get_text(), [round(v) for v in extent.extents]))
    assert not outside, f"{name}: text outside the {box.width:.0f}×{box.height:.0f} canvas"


def _artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PERSONALIZE_SIM_ARTIFACTS") or tmp_path) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _without_text(fig: Any) -> None:
    """Hide every text, keeping the layout that made room for it: the text's raster (its
    antialiasing) differs between matplotlib releases, its place and words are checked above."""
    from matplotlib.text import Text

    FigureCanvasAgg(fig).draw()  # lay out with the text
    fig.set_layout_engine("none")  # … and keep that layout
    for ax in fig.findobj(lambda a: hasattr(a, "tick_params")):
        ax.tick_params(which="both", labelbottom=False, labeltop=False, labelleft=False,
                       labelright=False)  # fmt: skip
    for text in fig.findobj(Text):
        text.set_visible(False)


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_looks_as_its_baseline(inputs, name, tmp_path):
    fig = FIGURES[name](inputs)
    folder = _artifacts(tmp_path)
    fig.savefig(folder / f"{name}-with-text.png", dpi=DPI * 2)  # for a person to look at
    _without_text(fig)
    actual = folder / f"{name}.png"
    fig.savefig(actual, dpi=DPI)
    baseline = BASELINES / f"{name}.png"
    if os.environ.get("PERSONALIZE_SIM_NEW_BASELINES") == "1":
        shutil.copy(actual, baseline)
    assert baseline.exists(), f"no {baseline}: write it with PERSONALIZE_SIM_NEW_BASELINES=1"
    failed = _compare(baseline, actual, folder)
    assert failed is None, failed


def _compare(baseline: Path, actual: Path, folder: Path) -> str | None:
    """compare_images, each picture against the other's colours within SHIFT pixels: a line
    or an edge a pixel or two off (layouts differ that much between matplotlib releases)
    passes; a line, bar or legend missing, added or moved further does not."""
    from PIL import Image, ImageChops, ImageFilter

    expected, drawn = (Image.open(p).convert("RGB") for p in (baseline, actual))
    if expected.size != drawn.size:
        return f"the picture is {drawn.size}, its baseline {expected.size}"
    for one, other, tag in ((expected, drawn, "expected"), (drawn, expected, "actual")):
        low = other.filter(ImageFilter.MinFilter(2 * SHIFT + 1))
        high = other.filter(ImageFilter.MaxFilter(2 * SHIFT + 1))
        # each pixel of one, moved into the range of colours other has near it
        near = ImageChops.lighter(ImageChops.darker(one, high), low)
        paths = folder / f"{actual.stem}-{tag}.png", folder / f"{actual.stem}-{tag}-near.png"
        one.save(paths[0])
        near.save(paths[1])
        failed = compare_images(str(paths[0]), str(paths[1]), tol=TOLERANCE)
        if failed is not None:
            return failed
    return None


@pytest.mark.parametrize(
    ("name", "spoil"),
    [
        ("latency", lambda fig: fig.axes[0].get_lines()[2].remove()),  # p99 from intended
        ("error_codes", lambda fig: fig.axes[0].patches[0].remove()),  # the throttled bars
        ("attribution_windows", lambda fig: fig.axes[0].get_lines()[1].remove()),
    ],
)
def test_the_comparison_sees_a_missing_line_or_bars(inputs, tmp_path, name, spoil):
    """The tolerance is no blindfold: a line or bars gone fail the comparison (a legend's
    frame is too small to tell at this size: the legend's words are checked above)."""
    folder = _artifacts(tmp_path)
    fig = FIGURES[name](inputs)
    spoil(fig)
    _without_text(fig)
    fig.savefig(folder / f"{name}-spoilt.png", dpi=DPI)
    failed = _compare(BASELINES / f"{name}.png", folder / f"{name}-spoilt.png", folder)
    assert failed is not None and "RMS" in failed
    rms = float(failed.split("RMS Value: ")[1].split()[0])
    assert rms > 2 * TOLERANCE, rms  # by a margin, not by a hair
