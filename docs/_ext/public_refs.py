"""Resolve the short names the docstrings use to the public names the reference documents.

Docstrings say ``:class:`StreamHandle``` or ``:meth:`replace``` as a reader of the module
would; autodoc reads them in the private module that defines the object
(``personalize_sim.simulation._simulate``), where Python's domain finds no such name. When a
reference finds no target, this looks for the one documented object whose dotted name ends
with the target's last parts (``fast.FastTarget`` → ``personalize_sim.streaming.FastTarget``;
``replace`` inside ``SimulationConfig`` → ``SimulationConfig.replace``). A name that matches
no documented object, or several, stays a broken reference: a warning, so an error under -W.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util.nodes import make_refnode

_ROLES = {"class": {"class", "exception", "data"}, "exc": {"exception", "class"},
          "func": {"function", "method", "staticmethod", "classmethod"},
          "meth": {"method", "staticmethod", "classmethod", "property", "function"},
          "attr": {"attribute", "property"}, "data": {"data", "attribute"},
          "obj": None, "mod": {"module"}}  # fmt: skip


def _candidates(objects: dict[str, Any], target: str, role: str, context: str) -> list[str]:
    kinds = _ROLES.get(role)
    parts = target.lstrip("~.").split(".")
    found = []
    for name, entry in objects.items():
        if kinds is not None and entry.objtype not in kinds:
            continue
        if name.split(".")[-len(parts) :] == parts or (  # a method named inside its class
            context and name == f"{context}.{target}"
        ):
            found.append(name)
    return found


def _resolve(app: Any, env: Any, node: pending_xref, contnode: nodes.Element) -> Any:
    if node.get("refdomain") != "py":
        return None
    target, role = node["reftarget"], node["reftype"]
    domain = env.get_domain("py")
    objects = domain.objects
    context = ".".join(p for p in (node.get("py:module"), node.get("py:class")) if p)
    tail = target.split(".")[-1]
    if target.startswith("personalize_sim.") and "._" not in target:
        found = _candidates(objects, tail, role, "")  # a re-export: its canonical home
        found = [f for f in found if f.rsplit(".", 1)[0] != target.rsplit(".", 1)[0]] or found
    else:
        found = _candidates(objects, target, role, context)
        if not found and "." in target:  # ``fast.FastTarget``: a private module's name
            found = _candidates(objects, tail, role, "")
    narrowed = [f for f in found if context and f.startswith(context + ".")]
    if len(narrowed) != 1 and node.get("py:class"):  # a method of a class re-exported
        narrowed = [f for f in found if f.split(".")[-2:-1] == [node["py:class"]]]
    found = narrowed if len(narrowed) == 1 else found
    if len(found) != 1:
        return None
    entry = objects[found[0]]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode,
                        found[0])  # fmt: skip


def setup(app: Any) -> dict[str, Any]:
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
