"""Run cells in a real Jupyter kernel (nbclient). nbformat is imported here, when a test
runs, not when tests are collected: its schema checks cost each worker 1.5 s to import."""

from __future__ import annotations

from typing import Any

import pytest


def run_in_kernel(*cells: str) -> list[Any]:
    """Execute ``cells`` in a fresh ``python3`` kernel; each cell's outputs, in order."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    return [cell.outputs for cell in nb.cells]
