"""The project's own promises: public API, cheap import, README and CI in step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import personalize_sim

ROOT = Path(__file__).resolve().parents[1]


def test_no_package_is_named_like_a_public_function():
    import importlib.util
    import inspect

    for name in personalize_sim.__all__:
        if inspect.isfunction(getattr(personalize_sim, name)):
            assert importlib.util.find_spec(f"personalize_sim.{name}") is None, name


def test_every_import_order_gives_the_functions():
    """``simulate`` and ``stream`` are functions whatever was imported before them."""
    code = """
import inspect, itertools, sys
STATEMENTS = (
    "import personalize_sim.simulation",
    "import personalize_sim.streaming",
    "from personalize_sim import SimulationConfig, simulate",
    "from personalize_sim import stream",
)
for order in itertools.permutations(STATEMENTS):
    for name in [m for m in sys.modules if m.startswith("personalize_sim")]:
        del sys.modules[name]
    scope = {}
    for statement in order:
        exec(statement, scope)
    import personalize_sim
    for name in ("simulate", "stream"):
        function = getattr(personalize_sim, name)
        assert inspect.isfunction(function), (order, name, function)
        assert "rate" in inspect.signature(function).parameters or name == "simulate", order
    assert inspect.isfunction(scope.get("simulate", personalize_sim.simulate)), order
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_import_is_cheap_and_side_effect_free():
    code = (
        "import sys, threading; import personalize_sim;"
        "heavy = [m for m in ('pandas', 'numpy', 'botocore', 'boto3', 'matplotlib', 'ipywidgets',"
        " 'aiohttp', 'uvicorn') if m in sys.modules];"
        "print(heavy, threading.active_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] 1"


def test_ci_runs_the_readme_test_command_verbatim():
    commands = re.findall(r"^    \$ (.+)$", (ROOT / "README.md").read_text(), flags=re.M)
    assert len(commands) == 2, "the README opens with two commands: the demo and the tests"
    demo, tests = commands
    assert "personalize-sim demo" in demo
    ci = [
        line
        for line in (ROOT / ".ci/run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert tests in ci


def test_cli_help_lists_every_command():
    out = subprocess.run(
        [sys.executable, "-m", "personalize_sim.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    from personalize_sim.cli import COMMANDS

    for name in COMMANDS:
        assert name in out.stdout


@pytest.mark.slow
def test_the_wheel_carries_the_presets_and_no_links(tmp_path):
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    presets = {n for n in names if n.startswith("personalize_sim/simulation/presets/")}
    assert presets == {
        "personalize_sim/simulation/presets/retail.yaml",
        "personalize_sim/simulation/presets/video-on-demand.yaml",
    }
    assert not [p for p in ROOT.joinpath("personalize_sim").rglob("*") if p.is_symlink()]
