"""Small configs for the simulator's tests: one knob at a time, everything else plain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from personalize_sim.simulate.config import (
    ArmConfig,
    CatalogConfig,
    CategoryConfig,
    EventTypeConfig,
    ExposureConfig,
    FunnelConfig,
    PopulationConfig,
    SimulationConfig,
    TimeConfig,
)

#: a Monday, so whole weeks start on the first weekday of the profile
START = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)

VIEWS_ONLY = FunnelConfig(
    event_types=(EventTypeConfig(name="View", new_item=True),),
    start={"View": 1.0},
    transitions={"View": {"View": 0.8, "exit": 0.2}},
)


def plain_config(**sections: Any) -> SimulationConfig:
    """One category, one persona, views only, no slates, no anonymity, starting START."""
    defaults: dict[str, Any] = {
        "catalog": CatalogConfig(items=500, categories=(CategoryConfig(name="all"),)),
        "population": PopulationConfig(users=2_000, anonymous_share=0.0, new_user_share=0.0),
        "time": TimeConfig(days=2, start=START, sessions_per_user_per_day=1.0),
        "funnel": VIEWS_ONLY,
        "exposure": ExposureConfig(arms=(ArmConfig(name="control", recommender="none"),)),
    }
    defaults.update(sections)
    return SimulationConfig(**defaults)


@pytest.fixture
def plain() -> Callable[..., SimulationConfig]:
    return plain_config
