"""Checks on what every notebook cell *shows*, on top of nbval's run (``--nbval-lax`` only
fails a cell that raises).

After each cell runs, its outputs must hold no error text (nothing on stderr: the browser
shows it in red), and every figure it shows must be a picture: a ``<Figure size …>`` text
without an ``image/png`` beside it is how a bare matplotlib figure looks in a front end that
has no picture formatter for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def figure_problems(outputs: list[dict[str, Any]]) -> list[str]:
    """What is wrong with a cell's outputs, as a user would see it (empty when all is fine)."""
    problems = []
    for out in outputs:
        data = out.get("data", {})
        text = data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        if text.startswith("<Figure size") and "image/png" not in data:
            problems.append(f"a figure shows as text, not a picture: {text!r}")
        if out.get("output_type") == "error":
            problems.append(f"error output: {out.get('ename')}: {out.get('evalue')}")
        if out.get("name") == "stderr":  # a warning or a traceback: the browser shows it in red
            problems.append(f"stderr: {''.join(out.get('text', ''))[:300]!r}")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    outputs = getattr(item, "test_outputs", None)  # nbval's IPyNbCell keeps what the cell showed
    if outputs is not None:
        problems = figure_problems(outputs)
        assert not problems, f"{item.name}: " + "; ".join(problems)
    return result
