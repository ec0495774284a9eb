"""The public surface is a decision: names and signatures are pinned, reprs show public paths."""

from __future__ import annotations

import difflib
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINNED = HERE / "public_surface.txt"


def test_the_public_surface_is_pinned():
    """Names, signatures and methods of every public module, as ``tests/surface.py`` prints
    them. A change here is deliberate: write the file anew (see tests/surface.py)."""
    out = subprocess.run(
        [sys.executable, str(HERE / "surface.py")], capture_output=True, text=True, check=True
    ).stdout
    pinned = PINNED.read_text()
    diff = "".join(
        difflib.unified_diff(pinned.splitlines(True), out.splitlines(True), "pinned", "now")
    )
    assert out == pinned, f"the public surface changed:\n{diff}"


def test_the_surface_stays_small():
    total = int(PINNED.read_text().rsplit("## total: ", 1)[1].split()[0])
    assert total < 150, total


def test_exported_classes_show_their_public_path():
    sys.path.insert(0, str(HERE))
    try:
        import surface
    finally:
        sys.path.remove(str(HERE))
    for module_name in surface.public_modules():
        if module_name.endswith(".locust"):  # gevent patches its importer: checked by the run above
            continue
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj):
                assert "._" not in obj.__module__, f"{module_name}.{name}: {obj.__module__}"
                assert getattr(importlib.import_module(obj.__module__), name) is obj


def test_a_handle_repr_names_the_public_class():
    from personalize_sim.streaming import MemoryTarget, StreamHandle, open_stream

    handle = open_stream([], rate=10, target=MemoryTarget())
    assert repr(type(handle)) == "<class 'personalize_sim.streaming.StreamHandle'>"
    assert isinstance(handle, StreamHandle)
