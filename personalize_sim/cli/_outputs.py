"""Output paths, checked before any work: minutes of computing must not end in "cannot write".

A file must be new or writable, in an existing folder, not a folder itself, not an input the
command reads, and (when the command says so) of a suffix it can write; a folder must be
one you can write or one that can be made.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

from ._failures import UsageError

__all__ = ["output_file", "output_folder"]


def output_file(
    flag: str, name: str, *, inputs: Collection[str] = (), suffixes: Collection[str] = ()
) -> Path:
    """``name`` as a file this command can write, or a UsageError naming ``flag``."""
    path = Path(name)
    if path.exists() and any(_same_file(path, Path(i)) for i in inputs):
        raise UsageError(f"{flag} {name} is the input file, which it would write into: "
                         "pass another path")  # fmt: skip
    if path.is_dir():
        raise UsageError(f"{flag} {name} is a folder: pass a file path")
    if suffixes and path.suffix.lower().lstrip(".") not in suffixes:
        raise UsageError(f"{flag} {name}: use a file ending in "
                         f"{', '.join('.' + s for s in sorted(suffixes))}")  # fmt: skip
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{flag} {name}: no such folder {parent}{os.sep} (create it first)")
    writable = os.access(path, os.W_OK) if path.exists() else os.access(parent, os.W_OK)
    if not writable:
        raise UsageError(f"{flag} {name}: not writable (permission denied)")
    return path


def output_folder(flag: str, name: str) -> Path:
    """``name`` as a folder this command can write into (made on use when it is new)."""
    path = Path(name)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {name} is a file: pass a folder")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {name}: not writable ({existing} is not a folder you can write)")
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
