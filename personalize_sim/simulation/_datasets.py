"""A whole dataset group from one config and seed: interactions, items, users, actions and
action interactions, consistent with each other.

The items are the catalog :func:`simulate` draws (every event's item is one, and an item
released inside the window has that moment as its ``CREATION_TIMESTAMP``); the users are
its population (every ``USER_ID`` and ``true_user_id`` is one); the action interactions
follow :class:`ActionsConfig`'s rule over the sessions of the events. What the events do
not fix (ages, creation times before the window, descriptions, who is shown an action) is
drawn from a stream of its own (``DATASETS``), so adding datasets never changes an event.
Columns are the datasets' field names (``ITEM_ID``, ``CATEGORY_L1``, ``PRICE``…); the
ground truth is in lower-case columns (``persona``, ``release_day``, ``propensity``…).

>>> group = simulate_datasets("retail", users=200, days=1, rng=3)
>>> sorted(group.frames())
['action_interactions', 'actions', 'interactions', 'items', 'users']
>>> set(group.interactions["ITEM_ID"]) <= set(group.items["ITEM_ID"])
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._timestamps import utc_from_us
from ._actions import action_interactions
from ._arrivals import DAY_US
from ._config import SimulationConfig
from ._engine import DATASETS, Run, stream
from ._simulate import Progress, _run, events_of

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DatasetGroup", "simulate_datasets"]

#: the random stream of what only the datasets need (after the engine's keys 0-7)
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55+")
#: (share of users, level) by activity, most active first
MEMBERSHIP = ((0.05, "gold"), (0.20, "silver"), (1.0, "basic"))
_WORDS = ("classic", "essential", "premium", "everyday", "limited", "new", "vintage", "smart")
#: items on sale from the start were created up to this long before the window
_CREATED_BEFORE_US = 365 * DAY_US


@dataclass(frozen=True, eq=False)
class DatasetGroup:
    """The five datasets of one simulated site (each a DataFrame)."""

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    actions: pd.DataFrame
    action_interactions: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        """The datasets by name: ``interactions, items, users, actions, action_interactions``."""
        return {name: getattr(self, name) for name in DATASET_NAMES}

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(frame):,}" for name, frame in self.frames().items())
        return f"DatasetGroup({sizes})"


DATASET_NAMES = ("interactions", "items", "users", "actions", "action_interactions")


def simulate_datasets(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    **overrides: Any,
) -> DatasetGroup:
    """Every dataset of a dataset group, simulated; arguments as :func:`simulate`, whose
    frame is ``interactions`` (the same frame, byte for byte, for the same config and seed)."""
    run = _run(config, rng, now, progress, overrides)
    interactions = events_of(run, progress)
    extra = stream(run.entropy, DATASETS)
    items = _items(run, extra)
    users = _users(run, extra)
    actions, expires_us = _actions(run)
    known = interactions.loc[interactions["USER_ID"].notna()]
    sessions = known.drop_duplicates("SESSION_ID")[["SESSION_ID", "USER_ID", "TIMESTAMP"]]
    sessions = sessions.assign(persona=known.loc[sessions.index, "persona"].astype(str))
    names = [p.name for p in run.config.population.personas]
    chosen = action_interactions(run.config.actions, sessions, names, expires_us, extra)
    return DatasetGroup(interactions, items, users, actions, chosen)


def _items(run: Run, rng: np.random.Generator) -> pd.DataFrame:
    import pandas as pd

    config, catalog = run.config, run.catalog
    n = catalog.size
    names = np.array([c.name for c in config.catalog.categories])
    before = (rng.integers(1, _CREATED_BEFORE_US // 1_000_000, size=n)) * 1_000_000
    created = np.where(
        catalog.release_day > 0,
        run.start_us + catalog.release_day.astype(np.int64) * DAY_US,
        (run.start_us // 1_000_000) * 1_000_000 - before,
    )
    columns: dict[str, Any] = {
        "ITEM_ID": pd.Series([f"i{i}" for i in range(n)], dtype="str"),
        "CATEGORY_L1": pd.Series(names[catalog.category], dtype="str"),
        "PRICE": catalog.price.astype("float64"),
    }
    if (catalog.duration > 0).any():
        columns["DURATION"] = catalog.duration.astype("float64")
    columns["CREATION_TIMESTAMP"] = pd.Series(utc_from_us(created.astype(np.int64)))
    if config.catalog.descriptions:
        words = np.array(_WORDS)[rng.integers(0, len(_WORDS), size=(n, 2))]
        columns["DESCRIPTION"] = pd.Series(
            [
                f"A {w1} {category} item, {w2} and good value at {price:.2f}."
                for (w1, w2), category, price in zip(
                    words, names[catalog.category], catalog.price, strict=True
                )
            ],
            dtype="str",
        )
    columns["release_day"] = catalog.release_day.astype(np.int64)
    return pd.DataFrame(columns)


def _users(run: Run, rng: np.random.Generator) -> pd.DataFrame:
    import pandas as pd

    config, population = run.config, run.population
    n = population.size
    personas = config.population.personas
    # each persona's own age profile, then each user's band from it
    profiles = rng.dirichlet(np.full(len(AGE_BANDS), 2.0), size=len(personas))
    cdf = np.cumsum(profiles, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random(n)
    band = (u[:, None] >= cdf[population.persona]).sum(axis=1)
    rank = np.empty(n, dtype=np.int64)  # 0 = most active
    rank[np.argsort(-population.activity, kind="stable")] = np.arange(n)
    bounds = np.array([share for share, _ in MEMBERSHIP]) * n
    level = np.array([name for _, name in MEMBERSHIP])
    membership = level[np.minimum(np.searchsorted(bounds, rank, side="right"), len(level) - 1)]
    joined_at = pd.Series(utc_from_us(np.where(population.new, population.join_us, 0)))
    return pd.DataFrame(
        {
            "USER_ID": pd.Series([f"u{i}" for i in range(n)], dtype="str"),
            "MEMBERSHIP": pd.Series(membership, dtype="str"),
            "AGE_BAND": pd.Series(np.array(AGE_BANDS)[band], dtype="str"),
            "persona": pd.Series(
                np.array([p.name for p in personas])[population.persona], dtype="str"
            ),
            "new_user": population.new.astype(bool),
            "joined_at": joined_at.where(population.new),
        }
    )


def _actions(run: Run) -> tuple[pd.DataFrame, np.ndarray]:
    """The actions dataset, and when each action expires (epoch µs; never: int64 max)."""
    import pandas as pd

    actions = run.config.actions.actions
    start_s = run.start_us // 1_000_000
    end_s = -(-run.end_us // 1_000_000)
    never = np.iinfo(np.int64).max
    expires_s = [
        None if a.expires_after_days is None else end_s + round(a.expires_after_days * 86_400)
        for a in actions
    ]
    expires_us = np.array([never if s is None else s * 1_000_000 for s in expires_s], np.int64)
    columns: dict[str, Any] = {
        "ACTION_ID": pd.Series([a.name for a in actions], dtype="str"),
        "VALUE": np.array([a.value for a in actions], dtype=np.int64),
        "CHANNEL": pd.Series([a.channel for a in actions], dtype="str"),
        "CREATION_TIMESTAMP": pd.Series(utc_from_us(np.full(len(actions), start_s * 1_000_000))),
    }
    if any(s is not None for s in expires_s):
        micros = np.array([0 if s is None else s * 1_000_000 for s in expires_s], np.int64)
        expiry = pd.Series(utc_from_us(micros))
        columns["EXPIRATION_TIMESTAMP"] = expiry.where([s is not None for s in expires_s])
    if any(a.repeat_frequency is not None for a in actions):
        columns["REPEAT_FREQUENCY"] = pd.array([a.repeat_frequency for a in actions], "Int64")
    columns["base_propensity"] = np.array([a.base_propensity for a in actions], dtype="float64")
    return pd.DataFrame(columns), expires_us
