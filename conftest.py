"""How ``pytest -n N`` (pytest-xdist) shares the suite between worker processes.

Each worker collects the longest runs first (the browser tests and the soak suite, tens of
seconds each, mostly waiting on Chromium, JupyterLab or the wire), so none of them starts last
while the other workers sit idle; the rest keep their order, which spreads the other slow tests
(some of them timed runs of Locust or of the emulator under load) over the run rather than
starting them all at once.

This file is at the repository's root so that pytest loads it whatever paths it is given.
"""

from __future__ import annotations

import os

import pytest


def _is_longest(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) is not None for name in ("browser", "soak"))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a worker (pytest-xdist sets PYTEST_XDIST_WORKER there): the longest runs first."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        items.sort(key=lambda item: not _is_longest(item))  # stable: the rest keep their order
