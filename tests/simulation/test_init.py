"""The package: the names a user needs are public, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import personalize_sim.simulation as simulation

PUBLIC = {
    "EXIT",
    "ArmConfig",
    "CatalogConfig",
    "CategoryConfig",
    "EventTypeConfig",
    "ExposureConfig",
    "FunnelConfig",
    "GapConfig",
    "PersonaConfig",
    "PopulationConfig",
    "PropertyConfig",
    "RealismReport",
    "SimulationConfig",
    "SlateContext",
    "TimeConfig",
    "TrafficConfig",
    "fit",
    "iter_simulate",
    "preset_names",
    "realism_report",
    "simulate",
    "write_parquet",
    # who issued each recommendation, and the items dataset (metric attribution)
    "catalog_items",
    "recommendation_sources",
    "recommender_table",
    # the closed loop: users ask a recommender that learns from their events
    "LoopConfig",
    "LoopEvent",
    "LoopResult",
    "OnlineArms",
    "RuntimeArms",
    "SlateFailedError",
    "closed_loop",
    "gini",
    "loop_metrics",
    "loop_requests",
    # a run cut into partitions of blocks of time, for parallel engines (scale.dask, scale.locust)
    "PartOutput",
    "PartPlan",
    "assemble_part",
    "empty_part",
    "generate_part",
    "plan_parts",
}


def test_the_public_names_are_pinned():
    assert set(simulation.__all__) == PUBLIC
    for name in PUBLIC - {"EXIT"}:
        assert getattr(simulation, name).__module__.startswith("personalize_sim.simulation")
    assert simulation.EXIT == "exit"
    # a config a user writes needs nothing private
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
