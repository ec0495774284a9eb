"""How ``pytest -n N`` (pytest-xdist) shares the suite between worker processes.

Every test is a unit of its own, handed to whichever worker is free, except a notebook: nbval
runs its cells in order in one kernel, so all the cells of one ``.ipynb`` go to one worker, one
after another. Each worker collects the longest runs first (the browser tests and the
notebooks, tens of seconds each), so none of them starts last while the other workers sit idle;
the rest keep their order, which spreads the other slow tests (some of them timed runs of
Locust or of the emulator under load) over the run rather than starting them all at once.

This file is at the repository's root so that pytest loads it whatever paths it is given.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


def _is_longest(item: pytest.Item) -> bool:
    """A browser test, or a notebook's cell."""
    return item.get_closest_marker("browser") is not None or item.path.suffix == ".ipynb"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a worker (pytest-xdist sets PYTEST_XDIST_WORKER there): the longest runs first."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        items.sort(key=lambda item: not _is_longest(item))  # stable: the rest keep their order


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown with -p no:xdist
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
