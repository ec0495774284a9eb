"""The package: the names a user needs are public, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import personalize_sim.simulation as simulation


def test_a_config_a_user_writes_needs_nothing_private():
    assert simulation.EXIT == "exit"
    config = simulation.SimulationConfig(
        funnel=simulation.FunnelConfig(
            event_types=(simulation.EventTypeConfig(name="View", new_item=True),),
            start={"View": 1.0},
            transitions={"View": {simulation.EXIT: 1.0}},
        )
    )
    assert config.funnel.names == ("View",)


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


def test_importing_the_package_does_not_load_botocore():
    # default arms check their attribution source against botocore's service model:
    # they are built on use, so importing (or naming SimulationConfig) loads none of it
    for statement in (
        "import personalize_sim.simulation",
        "from personalize_sim import SimulationConfig",
    ):
        modules = loaded_after(statement)
        assert "personalize_sim.simulation" in modules
        assert "botocore" not in modules, statement
        assert "pandas" not in modules and "pyarrow" not in modules, statement
    # building a config with its default arms does load it (and that is fine)
    assert "botocore" in loaded_after(
        "from personalize_sim.simulation import ExposureConfig; ExposureConfig()"
    )
