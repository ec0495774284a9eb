"""Sphinx configuration of the documentation site: ``sphinx-build -W -b html docs site``.

The tool chain of the scientific Python ecosystem: the PyData theme, MyST Markdown (every page
is a ``.md``), myst-nb for the notebooks, autodoc with napoleon for the API reference, and
sphinx-argparse for the command line (read from the real parsers). The site builds offline:
no intersphinx, nothing fetched.

The tutorials are the notebooks of ``notebooks/``, copied into ``tutorials/`` at each build
(ignored by git). When ``PERSONALIZE_SIM_EXECUTED_NOTEBOOKS`` names a folder holding every
notebook already executed (the browser tests save the ones they ran there, in CI), those are
rendered as they are; otherwise myst-nb executes them here. Either way a notebook with an
error fails the build.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE / "_ext"))

import personalize_sim  # noqa: E402

project = "personalize_sim"
author = "personalize_sim contributors"
copyright = "2026, personalize_sim contributors"
release = version = personalize_sim.__version__

extensions = [
    "myst_nb",  # MyST Markdown pages and notebooks (it loads myst_parser)
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
    "public_refs",  # the short names docstrings use, resolved to the documented public ones
    "isolated_api",  # personalize_sim.scale.locust, imported in a process of its own
]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# -- warnings are errors (sphinx-build -W); every reference to our own names must resolve ------
nitpicky = True
# the site builds offline, without intersphinx: names of other libraries cannot resolve
nitpick_ignore_regex = [
    (
        r"py:.*",
        r"(pd|np|pa|dt|pandas|numpy|pyarrow|datetime|pathlib|collections|typing|abc"
        r"|matplotlib|ipywidgets|botocore|boto3|asyncio|concurrent|threading|os|io"
        r"|locust|dask|distributed|enum|decimal|argparse|hdrh|sqlite3|yaml|re)(\..*)?",
    ),
    (
        r"py:.*",
        r"(Path|Any|Callable|Iterable|Iterator|Mapping|Sequence|Generator|Literal"
        r"|Figure|Axes|DataFrame|Series|Table|RecordBatch|Generator|Enum|Exception"
        r"|ValueError|TypeError|RuntimeError|Self|TextIO|BinaryIO|Awaitable)",
    ),
    (r"py:.*", r"(str|int|float|bool|bytes|dict|list|tuple|set|frozenset|object|None|type)"),
    (r"py:.*", r"SubFigure"),  # matplotlib's
    # private and internal names are not part of the reference: a signature or a docstring
    # may name them (a type alias, the plumbing a layer shares), but they are not documented
    (r"py:.*", r"(.*\.)?(_\w+|internal)(\..*)?"),
    (
        r"py:.*",
        r"(Progress|Sample|Listener|Engine|Schedule|DeliveryLog|Prepared|dataset_type"
        r"|max_processes|EVENT_MAX_BYTES|RESERVED_PROPERTY_KEYS|BULK_VALUE_MAX_CHARS"
        r"|event_size|member_documentation|Catalog|CatalogDay|Latency|LatencySummary|RunSettings"
        r"|TimeUnit)",
    ),
    (r"py:.*", r"personalize_sim\.streaming\.(DeliveryLog|Prepared)"),
    (r"py:attr", r"promoted"),  # RuntimeArms.promoted: set in __init__, unseen by autodoc
    # autodoc splits a string annotation of a dataclass field at its commas ("tuple[float",
    # "...]"): the signature above it shows the whole type
    (r"py:class", r"(tuple|Mapping)\[.*"),
]

# -- the API reference: autodoc; the docstrings are reStructuredText prose (no numpydoc) ----
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "fully-qualified"
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = False

# -- MyST and the notebooks ---------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True  # the notebooks write files (figures, stores): not into docs/
nb_merge_streams = True


def _tutorials() -> str:
    """Copy the notebooks into ``tutorials/``; the execution mode myst-nb needs for them."""
    source = ROOT / "notebooks"
    names = sorted(p.name for p in source.glob("*.ipynb"))
    executed = os.environ.get("PERSONALIZE_SIM_EXECUTED_NOTEBOOKS")
    target = HERE / "tutorials"
    for stale in target.glob("*.ipynb"):
        stale.unlink()
    if executed == "none":  # a quick look at the prose: the tutorials without their outputs
        for name in names:
            _copy(json.loads((source / name).read_text()), target / name)
        return "off"
    if executed and all((Path(executed) / n).is_file() for n in names):
        for name in names:
            notebook = json.loads((Path(executed) / name).read_text())
            _check_outputs(notebook, name)
            _copy(notebook, target / name)
        return "off"  # rendered as the browser tests left them
    for name in names:
        _copy(json.loads((source / name).read_text()), target / name)
    return "force"


def _copy(notebook: dict, path: Path) -> None:
    """Write a notebook into tutorials/, its links to the docs made relative to that folder:
    ``notebooks/`` links ``../docs/reference/x.md``, ``docs/tutorials/`` needs
    ``../reference/x.md``."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"]).replace("](../docs/", "](../")
            cell["source"] = text
    path.write_text(json.dumps(notebook))


def _check_outputs(notebook: dict, name: str) -> None:
    """A notebook executed elsewhere: every code cell ran, and none shows an error."""
    for number, cell in enumerate(notebook["cells"], 1):
        if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
            continue
        if cell.get("execution_count") is None:
            raise RuntimeError(f"{name}: cell {number} was not executed")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise RuntimeError(f"{name}: cell {number} shows an error: {output.get('ename')}")


nb_execution_mode = _tutorials()

# -- the site ------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"personalize_sim {version}"
html_static_path = ["_static"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}
