"""The notebooks in a real JupyterLab, in headless Chromium: the quickstart's dashboard works end
to end, and every notebook's figures reach the page as pictures.

A JupyterLab server runs in a subprocess on 127.0.0.1 (random port and token, its own config,
settings and runtime folders under tmp_path, a copy of the notebook so autosave never touches
the repository). Debian's Chromium (``/usr/bin/chromium``, installed with apt; never
``playwright install``) opens the notebook and runs every cell. The test asserts that the
dashboard's progress bar reaches 100% and that its delivered counter equals the number of
events in the tracker's SQLite store, and saves a screenshot under tmp_path. Then it runs every
notebook and checks that each figure is an image (never ``<Figure size …>`` text), with a
screenshot of each.

Without Chromium or Playwright the test is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "01-quickstart.ipynb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: figures each notebook shows (at least): every one must reach the page as a picture
FIGURES = {
    "01-quickstart": 2,
    "02-behavioural-models": 4,
    "03-load-testing-a-tracker": 2,
    "04-metric-attribution": 6,
    "06-realistic-traffic": 1,
}
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # small /dev/shm in containers
]
SERVER_START_S = 90
RUN_ALL_S = 150

# JupyterLab calls home by default (news, update checks, the PyPI extension manager)
LAB_CONFIG = """
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
c.LabApp.expose_app_in_browser = True
c.ServerApp.open_browser = False
c.ServerApp.allow_root = True
c.ServerApp.port_retries = 0
"""
# no news toast over the screenshot; every cell rendered (no windowing of off-screen cells)
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def _missing(what: str) -> None:
    """Fail under CI=true (CI must install it), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what}; CI must provide it (.ci/run: apt-get install -y chromium)")
    pytest.skip(f"{what} (install it with: apt-get install -y chromium)")


def _browser_api():
    """Playwright's sync API, once Chromium and Playwright are known to be there."""
    if not CHROMIUM.exists():
        _missing(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _jupyterlab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on 127.0.0.1 serving a copy of 01-quickstart; yields (url, token)."""
    home = tmp_path / "jupyter"
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for notebook in NOTEBOOKS:
        shutil.copy(notebook, notebooks / notebook.name)
    env = dict(os.environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython"),
                     ("MPLCONFIGDIR", "matplotlib")):  # fmt: skip
        (home / sub).mkdir(parents=True)
        env[var] = str(home / sub)
    (home / "config" / "jupyter_lab_config.py").write_text(LAB_CONFIG)
    for name, values in LAB_SETTINGS.items():
        path = home / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), os.urandom(16).hex()
    log = tmp_path / "jupyterlab.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={notebooks}"],
            cwd=notebooks, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n"
                            f"{log.read_text()[-3000:]}")  # fmt: skip
            time.sleep(0.25)
        yield url, token
    finally:
        server.terminate()  # it shuts its kernels down (and so the notebook's tracker)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _error_outputs(page) -> str:  # a page, or a locator inside it
    return "\n".join(
        page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        .all_inner_texts()
    )  # fmt: skip


def _run_quickstart(sync_playwright, url: str, token: str, tmp_path: Path):
    """Open the notebook, run all cells, sample the bar; return what the page showed."""
    shot = tmp_path / "quickstart-jupyterlab.png"
    elsewhere: list[str] = []

    def local_only(route):  # the page may talk to the server only
        if route.request.url.startswith(url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1800},
        )  # fmt: skip
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.route("**/*", local_only)
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            page.wait_for_function(
                "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
                "?.status === 'idle'",
                timeout=60_000,
            )
            # fire and forget: the command's promise resolves only when every cell has run
            page.evaluate(
                "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return 1; }"
            )
            bar = page.locator(".ps-dashboard .ps-progress .progress-bar")
            bar.wait_for(timeout=RUN_ALL_S * 1000)
            widths, deadline = [], time.monotonic() + RUN_ALL_S
            while time.monotonic() < deadline:  # sample the live bar until it is full
                width = bar.evaluate("e => e.style.width")
                if not widths or widths[-1] != width:
                    widths.append(width)
                if width == "100%" or _error_outputs(page):
                    break
                page.wait_for_timeout(250)
            stored_line = page.locator(".jp-OutputArea-output", has_text="tracker store:")
            try:
                stored_line.wait_for(timeout=RUN_ALL_S * 1000)
            except Exception:
                pytest.fail(f"the notebook did not finish; errors shown:\n{_error_outputs(page)}")
            page.wait_for_function(  # the last cell ran: no prompt is still [*]
                "() => ![...document.querySelectorAll('.jp-InputPrompt')]"
                ".some(p => p.textContent.includes('*'))",
                timeout=60_000,
            )
            errors = _error_outputs(page)
            delivered_text = page.locator(
                ".ps-dashboard .ps-counter-delivered .ps-num"
            ).inner_text()
            store_text = stored_line.inner_text()
            page.locator(".ps-dashboard").scroll_into_view_if_needed()
            page.screenshot(path=str(shot))
        finally:
            browser.close()

    return widths, errors, delivered_text, store_text, elsewhere, shot


def test_quickstart_runs_in_jupyterlab_and_the_dashboard_matches_the_store(tmp_path, capsys):
    sync_playwright = _browser_api()  # before anything starts: fail (CI) or skip at once
    with _jupyterlab(tmp_path) as (url, token):
        widths, errors, delivered_text, store_text, elsewhere, shot = _run_quickstart(
            sync_playwright, url, token, tmp_path
        )
        match = re.search(r"tracker store: (\d+) events in (\S+)", store_text)
        assert match, store_text
        printed, db_path = int(match.group(1)), match.group(2)
        # count the store ourselves, while the kernel (which owns the store's folder) lives
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            (in_store,) = db.execute("SELECT count(*) FROM events").fetchone()
    with capsys.disabled():
        print(f"\nscreenshot of 01-quickstart in JupyterLab: {shot}\nprogress bar widths: {widths}")
    assert errors == "", f"the notebook wrote to stderr:\n{errors}"
    assert widths[-1] == "100%", widths
    delivered = int(delivered_text.replace(",", ""))
    assert delivered == in_store == printed > 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert elsewhere == [], f"the page tried to reach other hosts: {elsewhere[:5]}"


def _run_all_and_wait(page, url: str, token: str, name: str):
    """Open ``name``, run every cell, and return its panel when each code cell has run (or one
    failed). JupyterLab reopens earlier notebooks from its workspace: look inside the panel."""
    page.goto(f"{url}/lab/tree/{name}?token={token}", timeout=60_000)
    try:
        page.wait_for_function(  # this notebook is the current one, and its kernel is ready
            f"() => window.jupyterapp?.shell.currentWidget?.context?.path === {name!r}"
            " && window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel"
            "?.status === 'idle'",
            timeout=90_000,
        )
    except Exception:
        shot = f"{name}-not-ready.png"
        page.screenshot(path=shot)
        pytest.fail(f"{name}: no ready kernel within 90 s (screenshot: {Path(shot).resolve()})")
    panel = page.locator("#" + page.evaluate("() => window.jupyterapp.shell.currentWidget.id"))
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return 1; }"
    )
    try:
        page.wait_for_function(  # every code cell shows an execution count, or an error shows
            "() => { const n = window.jupyterapp.shell.currentWidget.node;"
            " return [...n.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
            ".every(p => /\\[\\d+\\]/.test(p.textContent))"
            " || n.querySelector('.jp-OutputArea-output[data-mime-type="
            '"application/vnd.jupyter.stderr"]\') !== null; }',
            timeout=RUN_ALL_S * 1000,
        )
    except Exception:
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        pytest.fail(f"{name} did not finish within {RUN_ALL_S} s; prompts: {prompts}")
    return panel


def test_every_notebook_shows_its_figures_as_pictures(tmp_path, capsys):
    sync_playwright = _browser_api()
    shots: dict[str, list[Path]] = {}
    problems: list[str] = []
    with _jupyterlab(tmp_path) as (url, token), sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True,
            args=FLAGS, viewport={"width": 1400, "height": 1800},
        )  # fmt: skip
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url)
                       else r.abort())  # fmt: skip
            for notebook in NOTEBOOKS:
                panel = _run_all_and_wait(page, url, token, notebook.name)
                errors = _error_outputs(panel)
                if errors:
                    problems.append(f"{notebook.stem}: error output: {errors[:500]}")
                texts = panel.locator(".jp-OutputArea-output", has_text="<Figure size")
                if texts.count():
                    problems.append(f"{notebook.stem}: {texts.count()} figures shown as text")
                images = panel.locator(".jp-OutputArea-output.jp-RenderedImage img")
                shots[notebook.stem] = []
                for i in range(images.count()):
                    shot = tmp_path / f"{notebook.stem}-figure-{i + 1}.png"
                    images.nth(i).scroll_into_view_if_needed()
                    images.nth(i).screenshot(path=str(shot))
                    shots[notebook.stem].append(shot)
                expected = FIGURES.get(notebook.stem, 0)
                if len(shots[notebook.stem]) < expected:
                    problems.append(
                        f"{notebook.stem}: {len(shots[notebook.stem])} pictures, "
                        f"expected {expected}"
                    )
                page.evaluate(  # shut its kernel down, and close it: one notebook on the page
                    "async () => { const w = window.jupyterapp.shell.currentWidget;"
                    " await w.sessionContext.shutdown(); w.dispose(); return 1; }"
                )
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nfigure screenshots: {tmp_path}/*-figure-*.png "
              f"({sum(len(v) for v in shots.values())} pictures)")  # fmt: skip
    assert not problems, "\n".join(problems)
    assert sum(len(v) for v in shots.values()) >= sum(FIGURES.values())
    for files in shots.values():
        for shot in files:
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 2000
