"""Small configs for the simulator's tests: one knob at a time, everything else plain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from personalize_sim import simulate, validate_events
from personalize_sim.simulation import (
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
from personalize_sim.simulation._batch import Batch
from personalize_sim.simulation._columns import Frames

#: a Monday, so whole weeks start on the first weekday of the profile
START = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
#: the end of the window of the preset frames (their ``now``)
NOW = dt.datetime(2026, 11, 26, 12, 30, tzinfo=dt.timezone.utc)

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


def batch_of(ts: list[int], slated: list[bool], k: int = 2) -> Batch:
    """A batch of events at times ``ts``; those ``slated`` were shown the slate [t, t+1]."""
    n = len(ts)
    empty = Batch.empty(1, k)
    cols = {name: np.zeros(n, dtype=values.dtype) for name, values in empty.cols.items()}
    cols["props"] = np.zeros((n, 1), dtype=np.int8)
    cols["ts"] = np.array(ts, dtype=np.int64)
    rows = np.cumsum(slated) - 1
    cols["slate_row"] = np.where(slated, rows, -1).astype(np.int32)
    slates = np.array([[t, t + 1] for t, s in zip(ts, slated, strict=True) if s], dtype=np.int32)
    return Batch(cols, slates.reshape(-1, k))


@pytest.fixture
def plain() -> Callable[..., SimulationConfig]:
    return plain_config


@pytest.fixture(scope="session")
def frames() -> dict[str, pd.DataFrame]:
    """The two presets, 1,500 users over three days ending NOW (shared: read only)."""
    return {
        name: simulate(name, users=1_500, days=3, now=NOW) for name in ("retail", "video-on-demand")
    }


#: rows checked at each end of a large frame (validate_events runs ~250k rows/s here)
_CHECKED_ROWS = 10_000


@pytest.fixture(autouse=True)
def _every_built_frame_passes_validate_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test simulates, every frame the engine builds must be a valid payload.

    Frames larger than 2 × _CHECKED_ROWS are checked at both ends (the start and the
    end of the window, where sessions are cut), to keep the suite fast.
    """
    built: list[pd.DataFrame] = []
    original = Frames.assemble  # every frame, whole or chunk, is assembled here

    def assemble(self: Any, chunks: Any, offset: int) -> pd.DataFrame:
        result = original(self, chunks, offset)
        built.append(result)
        return result

    monkeypatch.setattr(Frames, "assemble", assemble)
    yield
    for result in built:
        if len(result) > 2 * _CHECKED_ROWS:
            result = pd.concat([result.head(_CHECKED_ROWS), result.tail(_CHECKED_ROWS)])
        problems = validate_events(result)
        assert len(problems) == 0, problems.head()
