"""Draw the README's pictures: the live dashboard of a stream, and a delivery plot.

    python docs/pictures.py [FOLDER]     (default: docs/_static)

Both come from one real stream: a small simulated shop sent to the local tracker emulator, which
throttles past 40 requests/s and fails one request in fifty, on a schedule that ramps past that
quota, so the pictures show throttling, retries and the latency they cost.

* ``delivery.png``: :func:`personalize_sim.plots.delivery` of the stream, saved by matplotlib.
* ``dashboard.png``: the :class:`~personalize_sim.Dashboard` of the same stream, in headless
  Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright, as the browser tests drive
  it). A page without Jupyter cannot run the widgets' JavaScript, so the page lays out the
  widgets' own contents (the title, counters, rates, the charts' SVG, the errors, each the
  HTML the dashboard itself renders) as JupyterLab lays them out, with the progress bar and the
  controls drawn in plain HTML.

``tests/test_docs.py`` runs this script into a temporary folder and checks both pictures.
"""

from __future__ import annotations

import html
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 13px;
       margin: 0; padding: 16px; background: #fff; color: #212121; width: 1100px; }}
.row {{ display: flex; flex-flow: row wrap; align-items: center; gap: 4px; margin: 6px 0; }}
.cell {{ min-width: 120px; margin: 0 12px 0 0; }}
.bar {{ flex: 1; height: 18px; background: #eee; border-radius: 2px; }}
.bar > div {{ height: 100%; background: #2196f3; border-radius: 2px; }}
button {{ font: inherit; padding: 4px 12px; border: 0; background: #eee; margin-right: 4px; }}
button.danger {{ background: #d32f2f; color: #fff; }}
</style></head><body><div class="ps-dashboard">
<div>{title}</div>
<div class="row"><span style="width: 48px">{percent}</span><div class="bar">
<div style="width: {percent}"></div></div></div>
<div class="row">{counters}</div>
<div>{rates}</div>
<div class="row"><button>pause</button><button>resume</button>
<button class="danger">stop</button><span>{slider}</span></div>
<div class="row">{rate_chart}{latency_chart}</div>
<div>{errors}</div>
</div></body></html>"""


def run_stream():
    """A finished stream to the emulator, throttled and with a few 5xx."""
    from personalize_sim import LocalTracker, simulate, stream
    from personalize_sim.streaming import ramp

    frame = simulate("retail", users=900, days=1, rng=0)
    with LocalTracker(max_tps=40, error_rate=0.02, rng=0) as tracker:
        client = tracker.client(retries={"total_max_attempts": 1})
        return stream(frame, tracking_id=tracker.tracking_id, target=client,
                      rate=ramp(10, 80, over=6))  # fmt: skip


def delivery(handle, path: Path) -> None:
    from personalize_sim import plots

    plots.delivery(handle).savefig(path, dpi=100)


def dashboard(handle, path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from personalize_sim import Dashboard

    board = Dashboard(handle, start=False)
    board.update(force=True)
    page = PAGE.format(
        title=board.title.value,
        percent=html.escape(board.progress.description),
        counters="".join(
            f"<div class='cell'>{cell.value}</div>" for cell, _ in board.numbers.values()
        ),
        rates=board.rates.value,
        slider=html.escape(f"{board.rate_slider.description} {board.rate_slider.value:.4g}"),
        rate_chart=board.rate_chart.value,
        latency_chart=board.latency_chart.value,
        errors=board.errors.value,
    )
    board.close()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )  # fmt: skip
        try:
            tab = browser.new_page(viewport={"width": 1132, "height": 600})
            tab.route("**/*", lambda route: route.abort())  # the page needs nothing from outside
            tab.set_content(page)
            tab.locator(".ps-dashboard").screenshot(path=str(path))
        finally:
            browser.close()


def main(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    handle = run_stream()
    delivery(handle, folder / "delivery.png")
    dashboard(handle, folder / "dashboard.png")
    return [folder / "delivery.png", folder / "dashboard.png"]


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "_static"
    for picture in main(out):
        print(picture)
