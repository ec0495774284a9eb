"""How ``pytest -n N`` (pytest-xdist) shares the suite between worker processes.

The browser tests go to one worker together, first: they share one JupyterLab server and one
Chromium (session fixtures), which cost more CPU to start than most tests take to run, so a
worker each would start up to N of them. Every other test is a unit of its own, handed to
whichever worker is free; each worker collects the longest runs first (the browser tests and
the soak suite, mostly waiting on Chromium, JupyterLab or the wire), so none of them starts last
while the other workers sit idle.

It also lets this run keep compiled modules (``__pycache__``, ignored by git) where the
environment says not to (``PYTHONDONTWRITEBYTECODE``): the suite starts hundreds of Python
processes (workers, the CLI, emulators), and each would compile the package, and each worker
rewrite every test module, anew (4 s of CPU per worker before its first test).

This file is at the repository's root so that pytest loads it whatever paths it is given.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import pytest

if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:  # before workers start
    sys.dont_write_bytecode = False

_LONGEST = ("browser", "soak")


def _is_longest(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) is not None for name in _LONGEST)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a worker (pytest-xdist sets PYTEST_XDIST_WORKER there): the longest runs first."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        items.sort(key=lambda item: not _is_longest(item))  # stable: the rest keep their order


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``-n`` (whose default distribution is ``load``): the browser tests one unit, every
    other test a unit of its own. (``--dist loadgroup`` would need an ``xdist_group`` mark,
    which pytest-xdist 3.8 fails to apply on pytest 9.2: its tests are then spread silently.)"""
    if config.getvalue("dist") != "load":
        return None  # a distribution asked for by name is used as it is
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.startswith("tests/browser/") else nodeid

    return BrowserTogether(config, log)
