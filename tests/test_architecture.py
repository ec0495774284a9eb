"""docs/architecture.md is the map: its contracts are the ones lint-imports checks, every
document the code cites is in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: notes that are not in the repository (spelled in two parts so this file does not cite them)
_OUTSIDE = ("DESIGN" + ".md", "../" + "shared")


def _cited_files() -> list[Path]:
    sources = [ROOT / "README.md", ROOT / "pyproject.toml", *ROOT.joinpath("docs").rglob("*.md")]
    for folder in ("personalize_sim", "tests", "benchmarks", "examples", "notebooks"):
        sources += [
            p for p in ROOT.joinpath(folder).rglob("*")
            if p.suffix in (".py", ".yaml", ".md", ".ipynb", ".toml") and p.is_file()
        ]  # fmt: skip
    return sources


def test_every_import_contract_is_described_on_the_architecture_page():
    pyproject = (ROOT / "pyproject.toml").read_text()  # tomllib is 3.11+; we support 3.10
    names = re.findall(r'^\[\[tool\.importlinter\.contracts\]\]\nname = "(.+)"$', pyproject, re.M)
    assert len(names) == pyproject.count("[[tool.importlinter.contracts]]")
    section = ARCHITECTURE.read_text().split("### The import contracts")[1].split("\n## ")[0]
    described = re.findall(r"^- \*\*(.+?)\*\*", section, flags=re.M)
    assert [n.rstrip(".") for n in described] == [n.rstrip(".") for n in names]


def test_every_cited_document_is_in_the_repository():
    cited: dict[str, str] = {}
    for path in _cited_files():
        text = path.read_text(errors="replace")
        for match in re.findall(r"\b((?:docs/)?(?:reference/)?[\w-]+\.md)\b", text):
            if match.startswith(("docs/", "reference/")):
                cited.setdefault(match, str(path.relative_to(ROOT)))
        for outside in _OUTSIDE:
            assert outside not in text, f"{path} cites {outside} (not in the repository)"
    assert "docs/architecture.md" in cited, "the code cites its architecture page"
    missing = {
        c: where for c, where in cited.items()
        if not (ROOT / c).is_file() and not (ROOT / "docs" / c).is_file()
    }  # fmt: skip
    assert not missing, f"cited but not in the repository: {missing}"


def test_no_module_is_over_400_lines():
    """A module a reader holds in their head; a longer one is two ideas (split it)."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in (ROOT / "personalize_sim").rglob("*.py")
    }
    assert sizes and not {name: n for name, n in sizes.items() if n > 400}
