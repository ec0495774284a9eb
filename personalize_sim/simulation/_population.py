"""Users: personas, heavy-tailed activity, arrival of new users, A/B arms.

Users are numbered in the order they join: returning users (there before the window)
first, then new users by join time, so "users who have joined by t" is a prefix and
picking one by activity is a single ``searchsorted`` on a cumulative sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._config import ExposureConfig, PopulationConfig

__all__ = ["Population", "build_population"]

#: join time of users who were there before the window
BEFORE = np.iinfo(np.int64).min


@dataclass(frozen=True, eq=False)
class Population:
    persona: np.ndarray  # int16 persona index per user
    arm: np.ndarray  # int8 arm index per user (assigned once: a user never switches arm)
    activity: np.ndarray  # float64 relative activity weight
    cum_activity: np.ndarray  # cumulative activity in user order
    join_us: np.ndarray  # int64 join time in epoch µs, BEFORE for returning users (sorted)
    new: np.ndarray  # bool: joined inside the window

    @property
    def size(self) -> int:
        return len(self.persona)

    def joined_by(self, t_us: np.ndarray) -> np.ndarray:
        """How many users have joined by each time."""
        return np.searchsorted(self.join_us, t_us, side="right")

    def pick(self, t_us: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A user per session, by activity among those who have joined (uniforms ``u``)."""
        eligible = np.maximum(self.joined_by(t_us), 1)
        target = u * self.cum_activity[eligible - 1]
        users = np.searchsorted(self.cum_activity, target, side="right")
        return np.minimum(users, eligible - 1)


def build_population(
    config: PopulationConfig,
    exposure: ExposureConfig,
    start_us: int,
    end_us: int,
    rng: np.random.Generator,
) -> Population:
    """Draw personas, log-normal activity, join times and arms for every user."""
    n = config.users
    persona = rng.choice(len(config.personas), size=n, p=config.persona_shares).astype(np.int16)
    arm = rng.choice(len(exposure.arms), size=n, p=exposure.arm_shares).astype(np.int8)
    activity = np.exp(config.activity_sigma * rng.standard_normal(n))
    new = rng.random(n) < config.new_user_share
    joins = rng.integers(start_us, end_us, size=n)
    join_us = np.where(new, joins, BEFORE)
    order = np.argsort(join_us, kind="stable")
    return Population(
        persona=persona[order],
        arm=arm[order],
        activity=activity[order],
        cum_activity=np.cumsum(activity[order]),
        join_us=join_us[order],
        new=new[order],
    )
