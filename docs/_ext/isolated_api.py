"""The reference page of ``personalize_sim.scale.locust``, read in a process of its own.

Importing that module imports Locust, which lets gevent patch the importing process (sockets,
threads, ssl): autodoc cannot import it inside Sphinx. This extension imports it in a
subprocess, which prints each public name's kind, signature and docstring (and those of its
public methods) as JSON, and writes the page from that with the Python domain's directives, so
its names are indexed and cross-referenced like autodoc's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

MODULE = "personalize_sim.scale.locust"
PAGE = Path(__file__).resolve().parents[1] / "reference" / "api" / f"{MODULE}.md"

_DUMP = r"""
import inspect, json, sys
import personalize_sim.scale.locust as m

def sig(obj):
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "()"

def entry(obj):
    methods = []
    if inspect.isclass(obj):
        for name, value in vars(obj).items():
            if name.startswith("_"):
                continue
            if isinstance(value, staticmethod | classmethod):
                kind, func = type(value).__name__, value.__func__
            elif inspect.isfunction(value):
                kind, func = "method", value
            else:
                continue
            if func.__module__.startswith("personalize_sim"):
                methods.append({"name": name, "kind": kind, "signature": sig(func),
                                "doc": inspect.getdoc(func) or ""})
    bases = [f"{b.__module__}.{b.__qualname__}" for b in getattr(obj, "__bases__", ())
             if b is not object]
    return {"kind": "class" if inspect.isclass(obj) else "function",
            "signature": sig(obj), "doc": inspect.getdoc(obj) or "", "bases": bases,
            "methods": methods}

names = {n: entry(getattr(m, n)) for n in m.__all__}
json.dump({"doc": m.__doc__ or "", "names": names}, sys.stdout)
"""


def _bases(bases: list[str]) -> str:
    shown = [b.replace("personalize_sim.scale._sources.", "") for b in bases]
    return f"Bases: `{'`, `'.join(shown)}`\n\n" if shown else ""


def page() -> str:
    """The page's MyST text, from the module as a process of its own imports it."""
    done = subprocess.run([sys.executable, "-c", _DUMP], capture_output=True, text=True,
                          check=True)  # fmt: skip
    data: dict[str, Any] = json.loads(done.stdout)
    rst = [f".. py:module:: {MODULE}", "", textwrap.dedent(data["doc"]).strip(), ""]
    for name, obj in sorted(data["names"].items()):
        directive = "py:class" if obj["kind"] == "class" else "py:function"
        rst += [f".. {directive}:: {name}{obj['signature']}", ""]
        body = _bases(obj["bases"]) + obj["doc"]
        rst += [textwrap.indent(body, "   "), ""]
        for method in obj["methods"]:
            rst += [f"   .. py:method:: {method['name']}{method['signature']}"]
            if method["kind"] != "method":
                rst += [f"      :{method['kind']}:"]
            rst += ["", textwrap.indent(method["doc"], "      "), ""]
    return f"# `{MODULE}`\n\n```{{eval-rst}}\n" + "\n".join(rst) + "\n```\n"


def _write(app: Any) -> None:
    text = page()
    if not PAGE.exists() or PAGE.read_text() != text:  # unchanged: Sphinx keeps its cache
        PAGE.write_text(text)


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
