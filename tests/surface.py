"""Print the public surface: every public module's ``__all__``, each name with its signature,
and each exported class's public methods and properties with theirs.

A public module is one whose dotted path has no ``_private`` part and is not an
``internal`` module (plumbing the layers share; see docs/architecture.md).
``tests/test_public_surface.py`` compares this with ``tests/public_surface.txt``; after a
deliberate change, write the file anew: ``python tests/surface.py > tests/public_surface.txt``.
Run in a process of its own: ``scale.locust`` lets gevent patch whatever imports it.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
import sys

import personalize_sim


def public_modules() -> list[str]:
    """Found on disk, not by importing packages (``scale.locust`` is one: importing it lets
    gevent patch this process)."""
    names = ["personalize_sim"]
    todo = [(list(personalize_sim.__path__), "personalize_sim.")]
    while todo:
        path, prefix = todo.pop()
        for info in pkgutil.iter_modules(path, prefix):
            parts = info.name.split(".")[1:]
            if any(p.startswith("_") for p in parts) or parts[-1] == "internal":
                continue
            names.append(info.name)
            if info.ispkg:
                todo.append(([f"{path[0]}/{parts[-1]}"], info.name + "."))
    return sorted(names)


def signature(obj: object) -> str:
    try:
        return str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


def describe(name: str, obj: object) -> list[str]:
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        return [f"{name}: enum {', '.join(m.name for m in obj)}"]
    if inspect.isclass(obj):
        bases = [b.__name__ for b in obj.__bases__ if b is not object]
        lines = [f"{name}{signature(obj)}" + (f"  ({', '.join(bases)})" if bases else "")]
        for attr, value in sorted(vars(obj).items()):
            if attr.startswith("_"):
                continue
            if isinstance(value, property):
                lines.append(f"    .{attr}  (property)")
            elif isinstance(value, classmethod | staticmethod):
                lines.append(f"    .{attr}{signature(value.__func__)}  ({type(value).__name__})")
            elif inspect.isfunction(value) and value.__module__.startswith("personalize_sim"):
                lines.append(f"    .{attr}{signature(value)}")
            elif inspect.isfunction(value):  # another package's (its signature is its own)
                lines.append(f"    .{attr}  (from {value.__module__.split('.')[0]})")
        return lines
    if callable(obj):
        return [f"{name}{signature(obj)}"]
    return [f"{name}: {type(obj).__name__}"]


def surface() -> list[str]:
    lines = []
    total = 0
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        names = sorted(getattr(module, "__all__", ()))
        total += len(names)
        lines.append(f"## {module_name} ({len(names)})")
        for name in names:
            lines.extend(describe(name, getattr(module, name)))
    lines.append(f"## total: {total} names")
    return lines


if __name__ == "__main__":
    sys.stdout.write("\n".join(surface()) + "\n")
