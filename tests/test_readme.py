"""The README's Python runs: every ```python block, in order, in one namespace, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


def python_blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text())


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert len(blocks) >= 5
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)  # the blocks write files (delivery.png, events.csv)
    namespace: dict = {"__name__": "__main__"}
    for number, code in enumerate(blocks, 1):
        exec(compile(code, f"README.md, python block {number}", "exec"), namespace)
    assert (tmp_path / "delivery.png").stat().st_size > 0
    assert (tmp_path / "events.schema.json").exists()


def test_no_python_hides_outside_a_python_block():
    text = (ROOT / "README.md").read_text()
    fenced = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)
    indented = re.findall(r"^(?: {4,}|\t)(?!\$ )(.*(?:import |= |\w\().*)$", fenced, flags=re.M)
    assert not indented, f"indented code outside a ```python block: {indented[:3]}"
