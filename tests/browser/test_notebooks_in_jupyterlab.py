"""The notebooks in a real JupyterLab, in headless Chromium: the quickstart's dashboard works end
to end, and every notebook's figures reach the page as pictures.

A JupyterLab server runs in a subprocess on 127.0.0.1 (a port it picks, a random token, its own
config, settings and runtime folders under a temporary folder, copies of the notebooks so
autosave never touches the repository). Debian's Chromium (``/usr/bin/chromium``, installed with
apt; never ``playwright install``) loads JupyterLab once; each test opens its notebook in it,
runs every cell, and closes it. Server and page are shared by the tests of one process (under
``pytest -n``, each worker that runs one of these tests starts its own). The quickstart's test
asserts that the dashboard's progress bar reaches 100% and that its delivered counter equals the
number of events in the tracker's SQLite store, and that every label of the dashboard's charts
(legend entries, titles, ticks) lies inside its chart, at the default width and at 800 px, with
a screenshot of each; every notebook's figures must be images (never ``<Figure size …>``
text), with a screenshot of each. Screenshots go to ``$PERSONALIZE_SIM_ARTIFACTS`` when set
(CI keeps that folder), else under tmp_path.

Without Chromium or Playwright the tests are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

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
    "05-closed-loop": 3,
    "06-realistic-traffic": 1,
    "07-dataset-group": 2,
}
T = TypeVar("T")
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
#: the browser's default viewport, and the narrow one the dashboard must also fit
WIDE, NARROW = {"width": 1400, "height": 1800}, {"width": 800, "height": 1800}
#: the legend entries of the dashboard's charts, each to be shown in full
LEGENDS = {
    "ps-chart-rate": ["achieved", "target"],
    "ps-chart-latency": ["p50 from intended", "p90 from intended", "p99 from intended",
                         "p50 service", "p99 service"],
}  # fmt: skip
# every text of each chart of the dashboard, its box and whether it lies inside its chart's
CHART_TEXTS = """root => [...root.querySelectorAll('.ps-dashboard svg')].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  const dash = root.querySelector('.ps-dashboard').getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
    const r = t.getBoundingClientRect();
    return {chart: svg.getAttribute('class'), text: t.textContent.trim(),
            legend: t.closest('g[id^="legend"]') !== null, width: r.width,
            inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5
                    && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
                    && box.left >= dash.left - 0.5 && box.right <= dash.right + 0.5};
  });
})"""

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


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on 127.0.0.1 serving copies of the notebooks; yields (url, token).

    One per test process, shared by the tests of this module: it starts in seconds of CPU,
    which every test would otherwise pay again (under ``-n``, one per worker that needs it).
    Port 0: the server picks a free port and writes it to its runtime folder."""
    _browser_api()  # before anything starts: fail (CI) or skip at once
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
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
    token = os.urandom(16).hex()
    log = tmp_path / "jupyterlab.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
             "--ServerApp.port=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={notebooks}"],
            cwd=notebooks, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"JupyterLab exited with {server.returncode}:\n{log.read_text()[-3000:]}"
                )
            url = _server_url(home / "runtime", server.pid)
            try:
                if url:
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
        server.terminate()  # it shuts its kernels down (and so the notebooks' trackers)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _server_url(runtime: Path, pid: int) -> str | None:
    """The server's own URL, from the file it writes once it listens (None until then)."""
    try:
        info = json.loads((runtime / f"jpserver-{pid}.json").read_text())
    except (OSError, ValueError):  # not written yet, or half written
        return None
    return f"http://127.0.0.1:{int(info['port'])}"


class Lab:
    """JupyterLab loaded once in headless Chromium (each load costs seconds of CPU), and every
    request the page tried to send elsewhere.

    Playwright's sync API marks an event loop as running in the thread that uses it, for as
    long as it is started; the tests that run after these in the same process (``stream()``
    in a script, ``asyncio.run``) must not see one. So one thread of its own drives the
    browser: ``lab.run(drive)`` calls ``drive(page)`` there and returns what it returns (or
    raises what it raises)."""

    def __init__(self, url: str, token: str, folder: Path) -> None:
        self.url, self.token, self.folder = url, token, folder
        self.elsewhere: list[str] = []
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright: Any = None
        self._browser: Any = None
        self._page: Any = None
        self.run(self._start)

    def run(self, drive: Callable[[Any], T]) -> T:
        return self._thread.submit(lambda: drive(self._page)).result(timeout=RUN_ALL_S * 2)

    def _start(self, _: Any) -> None:
        self._playwright = _browser_api()().start()
        self._browser = self._playwright.chromium.launch_persistent_context(
            str(self.folder / "profile"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport=WIDE,
        )  # fmt: skip
        page = self._browser.pages[0] if self._browser.pages else self._browser.new_page()
        page.route("**/*", self._local_only)
        page.goto(f"{self.url}/lab?token={self.token}", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp?.shell !== undefined", timeout=60_000)
        page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
        self._page = page

    def _local_only(self, route: Any) -> None:  # the page may talk to the server only
        if route.request.url.startswith(self.url):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def close(self) -> None:
        def stop(_: Any) -> None:
            try:
                if self._browser is not None:
                    self._browser.close()
            finally:
                if self._playwright is not None:
                    self._playwright.stop()

        try:
            self._thread.submit(stop, None).result(timeout=60)
        finally:
            self._thread.shutdown(wait=False)


@pytest.fixture(scope="session")
def lab(jupyterlab: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Chromium with JupyterLab loaded; the tests open their notebook in it and close it."""
    url, token = jupyterlab
    lab = Lab(url, token, tmp_path_factory.mktemp("chromium"))
    try:
        yield lab
    finally:
        lab.close()


def _error_outputs(page) -> str:  # a page, or a locator inside it
    return "\n".join(
        page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        .all_inner_texts()
    )  # fmt: skip


@contextlib.contextmanager
def _notebook(page: Any, name: str, folder: Path) -> Iterator[Any]:
    """Open ``name`` in the loaded JupyterLab and yield its panel once its kernel is ready;
    then shut its kernel down and close it (unsaved: the copy on disk stays as it was)."""
    page.evaluate(
        "path => { window.jupyterapp.commands.execute('docmanager:open', {path}); return 1; }",
        name,
    )
    try:
        page.wait_for_function(  # this notebook is the current one, and its kernel is ready
            "name => window.jupyterapp.shell.currentWidget?.context?.path === name"
            " && window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel"
            "?.status === 'idle'",
            arg=name,
            timeout=90_000,
        )
    except Exception:
        shot = folder / f"{name}-not-ready.png"
        page.screenshot(path=str(shot))
        pytest.fail(f"{name}: no ready kernel within 90 s (screenshot: {shot})")
    widget = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    try:
        yield page.locator(f"#{widget}")
    finally:
        page.evaluate(
            "async id => { for (const w of window.jupyterapp.shell.widgets('main')) {"
            " if (w.id === id) { await w.sessionContext.shutdown(); w.dispose(); } } return 1; }",
            widget,
        )


def _run_all(page) -> None:
    """Run every cell of the current notebook; fire and forget: the command's promise
    resolves only when every cell has run."""
    page.evaluate(
        "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); return 1; }"
    )


# the notebook as the page holds it, outputs included (saved first, so the server has them)
SAVED = """async name => { const widget = window.jupyterapp.shell.currentWidget;
  await widget.context.save();
  const model = await window.jupyterapp.serviceManager.contents.get(name, {content: true});
  return JSON.stringify(model.content); }"""


def _keep_executed(page: Any, name: str) -> None:
    """Under ``$PERSONALIZE_SIM_ARTIFACTS``, keep the notebook as it ran, outputs and all, in
    ``notebooks/``: the documentation site renders these (docs/conf.py) instead of running
    every notebook a second time."""
    folder = os.environ.get("PERSONALIZE_SIM_ARTIFACTS")
    if folder:
        (Path(folder) / "notebooks").mkdir(parents=True, exist_ok=True)
        (Path(folder) / "notebooks" / name).write_text(page.evaluate(SAVED, name))


def _figures(panel, stem: str, folder: Path) -> tuple[list[str], list[Path]]:
    """What is wrong with a notebook's outputs as the page shows them, and a screenshot of
    each figure: every one must be a picture (never ``<Figure size …>`` text)."""
    problems = []
    errors = _error_outputs(panel)
    if errors:
        problems.append(f"{stem}: error output: {errors[:500]}")
    texts = panel.locator(".jp-OutputArea-output", has_text="<Figure size")
    if texts.count():
        problems.append(f"{stem}: {texts.count()} figures shown as text")
    images = panel.locator(".jp-OutputArea-output.jp-RenderedImage img")
    shots = []
    for i in range(images.count()):
        shot = folder / f"{stem}-figure-{i + 1}.png"
        images.nth(i).scroll_into_view_if_needed()
        images.nth(i).screenshot(path=str(shot))
        shots.append(shot)
    expected = FIGURES.get(stem, 0)
    if len(shots) < expected:
        problems.append(f"{stem}: {len(shots)} pictures, expected {expected}")
    return problems, shots


# the words of the dashboard's buttons that do not fit them (cut to "p…")
BUTTONS_CUT = """root => [...root.querySelectorAll('.ps-dashboard button')]
  .filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent.trim())"""


def _artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: ``$PERSONALIZE_SIM_ARTIFACTS`` (kept by CI), else tmp_path."""
    folder = Path(os.environ.get("PERSONALIZE_SIM_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chart_problems(texts: list[dict], width: str) -> list[str]:
    """What a user could not read in the dashboard's charts at this width."""
    problems = [f"{width}: {t['chart']} text {t['text']!r} falls outside its chart"
                for t in texts if not t["inside"]]  # fmt: skip
    for chart, labels in LEGENDS.items():
        shown = [t["text"] for t in texts if t["chart"] == chart and t["legend"]]
        if shown != labels:
            problems.append(f"{width}: {chart} legend shows {shown}, expected {labels}")
    if not texts:
        problems.append(f"{width}: no chart text found")
    return problems


def _is_png(shot: Path) -> bool:
    return shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 2000


def test_quickstart_runs_in_jupyterlab_and_the_dashboard_matches_the_store(lab, tmp_path, capsys):
    """Run every cell, sample the live bar until it is full; the delivered counter equals the
    store's count; and the quickstart's figures are pictures (the check every other notebook
    gets in the test below, made here so the quickstart runs once)."""
    folder = _artifacts(tmp_path)
    shot = folder / "quickstart-jupyterlab.png"
    narrow_shot = folder / "quickstart-jupyterlab-800px.png"
    dashboard_shots = [folder / "dashboard-1400px.png", folder / "dashboard-800px.png"]

    def drive(page):
        with _notebook(page, NOTEBOOK.name, tmp_path) as panel:
            _run_all(page)
            bar = panel.locator(".ps-dashboard .ps-progress .progress-bar")
            bar.wait_for(timeout=RUN_ALL_S * 1000)
            widths, deadline = [], time.monotonic() + RUN_ALL_S
            while time.monotonic() < deadline:  # sample the live bar until it is full
                width = bar.evaluate("e => e.style.width")
                if not widths or widths[-1] != width:
                    widths.append(width)
                if width == "100%" or _error_outputs(panel):
                    break
                page.wait_for_timeout(250)
            stored_line = panel.locator(".jp-OutputArea-output", has_text="tracker store:")
            try:
                stored_line.wait_for(timeout=RUN_ALL_S * 1000)
            except Exception:
                pytest.fail(f"the notebook did not finish; errors shown:\n{_error_outputs(panel)}")
            page.wait_for_function(  # the last cell ran: no prompt is still [*]
                "id => ![...document.querySelectorAll(`#${id} .jp-InputPrompt`)]"
                ".some(p => p.textContent.includes('*'))",
                arg=panel.get_attribute("id"),
                timeout=60_000,
            )
            errors = _error_outputs(panel)
            delivered = panel.locator(".ps-dashboard .ps-counter-delivered .ps-num").inner_text()
            store_text = stored_line.inner_text()
            dashboard = panel.locator(".ps-dashboard")
            dashboard.scroll_into_view_if_needed()
            page.screenshot(path=str(shot))
            dashboard.screenshot(path=str(dashboard_shots[0]))
            charts = _chart_problems(panel.evaluate(CHART_TEXTS), "1400 px")
            charts += [f"1400 px: button {b!r} cut" for b in panel.evaluate(BUTTONS_CUT)]
            page.set_viewport_size(NARROW)
            try:
                page.wait_for_timeout(500)  # JupyterLab lays the panel out again
                dashboard.scroll_into_view_if_needed()
                charts += _chart_problems(panel.evaluate(CHART_TEXTS), "800 px")
                charts += [f"800 px: button {b!r} cut" for b in panel.evaluate(BUTTONS_CUT)]
                page.screenshot(path=str(narrow_shot))
                dashboard.screenshot(path=str(dashboard_shots[1]))
            finally:
                page.set_viewport_size(WIDE)
            match = re.search(r"tracker store: (\d+) events in (\S+)", store_text)
            assert match, store_text
            printed, db_path = int(match.group(1)), match.group(2)
            # count the store ourselves, while the kernel (which owns the store's folder) lives
            with contextlib.closing(sqlite3.connect(db_path)) as db:
                (in_store,) = db.execute("SELECT count(*) FROM events").fetchone()
            problems, figures = _figures(panel, NOTEBOOK.stem, folder)
            _keep_executed(page, NOTEBOOK.name)
        return widths, errors, delivered, printed, in_store, problems + charts, figures

    widths, errors, delivered_text, printed, in_store, problems, figures = lab.run(drive)
    with capsys.disabled():
        print(
            f"\nscreenshots of 01-quickstart in JupyterLab: {shot}, {narrow_shot}, "
            f"{dashboard_shots[0]}, {dashboard_shots[1]}\nprogress bar widths: {widths}"
        )
    assert errors == "", f"the notebook wrote to stderr:\n{errors}"
    assert widths[-1] == "100%", widths
    delivered = int(delivered_text.replace(",", ""))
    assert delivered == in_store == printed > 0
    assert all(_is_png(s) for s in (shot, narrow_shot, *dashboard_shots))
    assert not problems, "\n".join(problems)
    assert all(_is_png(figure) for figure in figures)
    assert lab.elsewhere == [], f"the page tried to reach other hosts: {lab.elsewhere[:5]}"


@pytest.mark.parametrize(
    "notebook", [n for n in NOTEBOOKS if n != NOTEBOOK], ids=lambda notebook: notebook.stem
)
def test_every_notebook_shows_its_figures_as_pictures(lab, notebook, tmp_path, capsys):
    """Every other notebook, one test each (under ``-n`` they run side by side)."""
    name = notebook.name

    def drive(page):
        with _notebook(page, name, tmp_path) as panel:
            _run_all(page)
            try:
                page.wait_for_function(  # every code cell shows a count, or an error shows
                    "id => { const n = document.getElementById(id);"
                    " return [...n.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                    ".every(p => /\\[\\d+\\]/.test(p.textContent))"
                    " || n.querySelector('.jp-OutputArea-output[data-mime-type="
                    '"application/vnd.jupyter.stderr"]\') !== null; }',
                    arg=panel.get_attribute("id"),
                    timeout=RUN_ALL_S * 1000,
                )
            except Exception:
                prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
                pytest.fail(f"{name} did not finish within {RUN_ALL_S} s; prompts: {prompts}")
            found = _figures(panel, notebook.stem, _artifacts(tmp_path))
            _keep_executed(page, name)
            return found

    problems, shots = lab.run(drive)
    with capsys.disabled():
        print(
            f"\nfigure screenshots: {_artifacts(tmp_path)}/{notebook.stem}-figure-*.png "
            f"({len(shots)} pictures)"
        )
    assert not problems, "\n".join(problems)
    assert len(shots) >= FIGURES.get(notebook.stem, 0)
    assert all(_is_png(shot) for shot in shots)
    assert lab.elsewhere == [], f"the page tried to reach other hosts: {lab.elsewhere[:5]}"


def test_every_expected_figure_count_names_a_notebook():
    assert set(FIGURES) <= {notebook.stem for notebook in NOTEBOOKS}
