"""The documentation: every public name has a docstring and a place in the reference, the
README fits on a screen, its pictures are drawn by a script, and the Python of the README and
of every page of docs/ runs (``tests/test_readme.py``). The site itself is built by ``.ci/run``
(``sphinx-build -W``: a broken reference, a failing notebook, a docstring that does not render
is an error)."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
API = ROOT / "docs" / "reference" / "api"
LOCUST = "personalize_sim.scale.locust"


def _surface():
    sys.path.insert(0, str(HERE))
    try:
        import surface
    finally:
        sys.path.remove(str(HERE))
    return surface


def public_names() -> dict[str, str | None]:
    """``module.name`` of every public name, with its own docstring (None when it has none).
    ``scale.locust`` is read in a process of its own (gevent patches its importer)."""
    names: dict[str, str | None] = {}
    for module_name in _surface().public_modules():
        if module_name == LOCUST:
            code = (f"import json, {LOCUST} as m; print(json.dumps("
                    "{n: getattr(m, n).__doc__ for n in m.__all__}))")  # fmt: skip
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout  # fmt: skip
            docs = json.loads(out.strip().splitlines()[-1])
        else:
            module = importlib.import_module(module_name)
            docs = {n: _own_doc(getattr(module, n)) for n in module.__all__}
        names.update({f"{module_name}.{n}": d for n, d in docs.items()})
    return names


def _own_doc(obj: object) -> str | None:
    """The object's docstring; a constant (a str, a dict) documents itself by its value."""
    if inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj):
        return obj.__doc__
    return repr(obj)


def test_every_public_name_has_a_docstring():
    names = public_names()
    assert len(names) > 100
    missing = sorted(n for n, doc in names.items() if not (doc or "").strip())
    assert not missing, f"public names without a docstring: {missing}"


def test_every_public_name_is_in_the_reference():
    """Each page of docs/reference/api/ documents its module's names by directive (the
    locust page is written at build time from the module's ``__all__``)."""
    directives = set()
    for page in API.glob("*.md"):
        directives |= set(
            re.findall(r"^\.\. auto(?!module)\w+:: ([\w.]+)$", page.read_text(), re.M)
        )
    expected = {n for n in public_names() if not n.startswith(LOCUST + ".")}
    assert expected - directives == set(), "missing from docs/reference/api/"
    assert directives - expected == set(), "documented but not public"
    pages = {p.stem for p in API.glob("*.md")} - {"index"}
    assert pages | {LOCUST} == set(_surface().public_modules())
    index = (API / "index.md").read_text()
    assert all(re.search(rf"^{re.escape(m)}$", index, re.M) for m in pages | {LOCUST})


def test_the_locust_page_documents_every_name():
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        import isolated_api
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    text = isolated_api.page()
    documented = set(re.findall(r"^\.\. py:(?:class|function):: (\w+)", text, re.M))
    assert documented == {n.rsplit(".", 1)[1] for n in public_names() if n.startswith(LOCUST)}


def test_every_command_has_its_page():
    from personalize_sim.cli import COMMANDS

    pages = ROOT / "docs" / "reference" / "cli"
    for name in COMMANDS:
        assert f":path: {name}\n" in (pages / f"{name}.md").read_text(), name


def test_the_readme_fits_on_a_screen_or_two():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    for link in re.findall(r"\]\(([^)#]+)\)", readme):  # every link leads to a file
        assert link.startswith("http") or (ROOT / link).exists(), link


def test_every_page_is_in_a_table_of_contents():
    docs = ROOT / "docs"
    pages = {p.relative_to(docs).with_suffix("").as_posix() for p in docs.rglob("*.md")}
    listed = {"index"}
    for page in docs.rglob("*.md"):
        for block in re.findall(r"```\{toctree\}\n(.*?)```", page.read_text(), re.S):
            folder = page.parent.relative_to(docs)
            for entry in block.splitlines():
                if entry.strip() and not entry.startswith(":"):
                    listed.add(_join(folder, entry.strip()))
    assert pages - listed == set()


def _join(folder: Path, entry: str) -> str:
    parts = [*folder.parts, *entry.split("/")]
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part not in (".", ""):
            out.append(part)
    return "/".join(out)


@pytest.mark.slow
@pytest.mark.browser
def test_the_readmes_pictures_are_drawn_by_the_script(tmp_path):
    """``docs/pictures.py`` draws both pictures the README shows (run it into docs/_static/
    after a change that shows in them, and look at them)."""
    import os

    if not Path("/usr/bin/chromium").exists() and os.environ.get("CI", "").lower() != "true":
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "pictures.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    readme = (ROOT / "README.md").read_text()
    for name in ("dashboard.png", "delivery.png"):
        drawn = tmp_path / name
        assert drawn.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and drawn.stat().st_size > 20_000
        assert f"docs/_static/{name}" in readme
        assert (ROOT / "docs" / "_static" / name).stat().st_size > 20_000


#: names whose only examples cannot run in this process: Locust's classes run in locustfiles
#: (examples/locustfile.py, run by tests/scale in their own processes, as gevent patches the
#: process that imports Locust). The set may only shrink: a name given an example must leave it.
NO_RUNNABLE_EXAMPLE_YET = {
    "personalize_sim.scale.locust.FrameSource",
    "personalize_sim.scale.locust.ParquetSource",
    "personalize_sim.scale.locust.PutEventsUser",
    "personalize_sim.scale.locust.ScheduleShape",
    "personalize_sim.scale.locust.SimulationSource",
    "personalize_sim.scale.locust.Source",
}


def test_every_public_name_has_a_runnable_example():
    """In its docstring (a doctest) or another public name's doctest, in a Python block of
    the README or of a page of docs/ (``tests/test_readme.py`` runs them), or in a notebook
    (the tutorials, which the browser tests run)."""
    sys.path.insert(0, str(HERE))
    try:
        from test_readme import WITH_PYTHON, python_blocks
    finally:
        sys.path.remove(str(HERE))
    code = "\n".join(block for page in WITH_PYTHON for block in python_blocks(page))
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(notebook.read_text())["cells"]
        code += "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    doctests = [line for doc in public_names().values() for line in (doc or "").splitlines()]
    code += "\n".join(line for line in doctests if line.lstrip().startswith((">>>", "...")))
    without = {
        name for name, doc in public_names().items()
        if ">>>" not in (doc or "") and not re.search(rf"\b{name.rsplit('.', 1)[1]}\b", code)
    }  # fmt: skip
    assert without - NO_RUNNABLE_EXAMPLE_YET == set(), "public names without a runnable example"
    assert NO_RUNNABLE_EXAMPLE_YET - without == set(), "given an example: take it off the list"
