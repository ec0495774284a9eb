"""The documentation's Python runs: every ```python block of the README and of each page of
docs/, in order, one namespace per page, offline.

A block whose first line is ``# file: NAME.py`` is a file of a recipe (a conftest, a test
module): it is written into the page's folder instead, and when the page wrote test modules,
pytest runs them there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)
#: research notes: measurements as they were taken, with the code of the time (not examples)
NOTES = {"personalize-events.md", "load-generation.md", "jupyter-widgets.md"}
PAGES = [
    ROOT / "README.md",
    *sorted(p for p in (ROOT / "docs").rglob("*.md") if p.name not in NOTES),
]
WITH_PYTHON = [p for p in PAGES if BLOCK.search(p.read_text())]
FILE = re.compile(r"\A# file: ([\w.]+\.py)\n")

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


def python_blocks(page: Path = ROOT / "README.md") -> list[str]:
    return BLOCK.findall(page.read_text())


@pytest.mark.parametrize("page", WITH_PYTHON, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)  # the blocks write files (delivery.png, events.csv)
    namespace: dict = {"__name__": "__main__"}
    tests = []
    for number, code in enumerate(python_blocks(page), 1):
        named = FILE.match(code)
        if named:
            (tmp_path / named.group(1)).write_text(code)
            tests += [named.group(1)] if named.group(1).startswith("test_") else []
            continue
        exec(compile(code, f"{page.name}, python block {number}", "exec"), namespace)
    if tests:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
             "-p", "no:locust", "-o", "addopts=", *tests],
            cwd=tmp_path, capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:]
        assert f"{len(re.findall(r'^def test_', ''.join(python_blocks(page)), re.M))} passed" in (
            done.stdout
        )


def test_the_readme_and_the_pages_show_their_results():
    assert len(python_blocks()) >= 1
    assert len(WITH_PYTHON) >= 10
    readme = python_blocks()[0]
    assert 'savefig("delivery.png")' in readme and len(readme.splitlines()) <= 12


def test_no_python_hides_outside_a_python_block():
    for page in PAGES:
        text = page.read_text()
        fenced = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)
        indented = re.findall(r"^(?: {4,}|\t)(?!\$ )(.*(?:import |= |\w\().*)$", fenced, flags=re.M)
        assert not indented, f"{page}: indented code outside a ```python block: {indented[:3]}"
