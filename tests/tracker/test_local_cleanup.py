"""A LocalTracker that is never closed (a test, a notebook) still stops and cleans up."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from personalize_sim.tracker import LocalTracker

from ..kernels import run_in_kernel

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("process", [True, False])
def test_a_dropped_tracker_stops_its_emulator_and_removes_its_folder(process):
    tracker = LocalTracker(process=process).start()
    folder = tracker.db_path.parent
    proc = tracker.process
    assert folder.is_dir()
    del tracker
    gc.collect()
    assert not folder.exists()
    if proc is not None:
        assert proc.poll() is not None  # not left running until this process exits


@pytest.mark.slow
def test_a_notebook_kernel_that_ends_leaves_no_tracker_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    cell = (
        "from personalize_sim.tracker import LocalTracker\n"
        "tracker = LocalTracker(process=True).start()\n"
        "print(tracker.db_path.parent)\n"
    )
    (outputs,) = run_in_kernel(cell)
    folder = Path(outputs[0]["text"].strip())
    assert folder.parent == tmp_path
    assert not folder.exists()
