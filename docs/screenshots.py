"""Screenshots of the built site in headless Chromium: the landing page, a tutorial and a
reference page, as a reader sees them.

    python docs/screenshots.py SITE_FOLDER OUT_FOLDER

``.ci/run`` takes them after building the site (``artifacts/site-*.png``), to be looked at.
"""

from __future__ import annotations

import sys
from pathlib import Path

PAGES = {
    "site-landing.png": "index.html",
    "site-tutorial.png": "tutorials/01-quickstart.html",
    "site-reference.png": "reference/api/personalize_sim.streaming.html",
}


def main(site: Path, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # the site is offline: nothing but its own files
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                       else r.abort())  # fmt: skip
            for name, path in PAGES.items():
                page.goto((site / path).resolve().as_uri())
                page.wait_for_load_state("load")
                page.screenshot(path=str(out / name))
                shots.append(out / name)
                if "tutorial" in name:  # and its first figure, as the page shows it
                    page.locator("img").first.scroll_into_view_if_needed()
                    page.screenshot(path=str(out / "site-tutorial-figure.png"))
                    shots.append(out / "site-tutorial-figure.png")
        finally:
            browser.close()
    return shots


if __name__ == "__main__":
    for shot in main(Path(sys.argv[1]), Path(sys.argv[2])):
        print(shot)
