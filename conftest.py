"""How ``pytest -n N`` (pytest-xdist) shares the suite between worker processes.

Every test is a unit of its own, handed to whichever worker is free, except a notebook: nbval
runs its cells in order in one kernel, so all the cells of one ``.ipynb`` go to one worker, one
after another. Each worker collects the long runs first (the browser tests and the notebooks,
then the other tests marked ``slow``), so none of them starts last while the other workers sit
idle.

This file is at the repository's root so that pytest loads it whatever paths it is given.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def _is_long(item: pytest.Item) -> int:
    """0 for the longest runs (a browser test, a notebook's cells), 1 for the other slow tests,
    2 for the rest."""
    if item.get_closest_marker("browser") or item.path.suffix == ".ipynb":
        return 0
    return 1 if item.get_closest_marker("slow") else 2


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a worker (pytest-xdist sets PYTEST_XDIST_WORKER there): the long tests first."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        items.sort(key=_is_long)  # stable: collection order within each rank


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n`` (whose default distribution is ``load``): a test per unit of work, a
    notebook's cells together. (``--dist loadgroup`` would need an ``xdist_group`` mark, which
    pytest-xdist 3.8 fails to apply on pytest 9.2: its tests are then spread silently.)"""
    if config.getvalue("dist") != "load":
        return None  # a distribution asked for by name is used as it is
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

    return NotebookScheduling(config, log)
