"""Users: personas, heavy-tailed activity, arrival of new users, A/B arms.

Users are numbered in the order they join: returning users (there before the window)
first, then new users by join time, so "users who have joined by t" is a prefix and
picking one by activity is a single ``searchsorted`` on a cumulative sum.

>>> personas = (PersonaConfig(name="a"), PersonaConfig(name="b", weight=3))
>>> PopulationConfig(personas=personas).persona_shares
(0.25, 0.75)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check, count, number, probability
from ._config_checks import named_items, valid_name

if TYPE_CHECKING:
    from ._exposure import ExposureConfig
    from ._funnel import SessionEvents

__all__ = [
    "PersonaConfig",
    "Population",
    "PopulationConfig",
    "Sessions",
    "build_population",
    "draw_sessions",
    "visible_users",
]


@dataclass(frozen=True, kw_only=True)
class PersonaConfig:
    """A kind of user: its share of users and its affinity for each category."""

    name: str
    weight: float = 1.0
    #: category name -> affinity; categories not listed get ``PopulationConfig.base_affinity``
    affinities: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        valid_name(self.name, "name")
        number(self.weight, "weight", low=0.0, strict=True)
        check(isinstance(self.affinities, Mapping), "affinities", self.affinities, "a mapping")
        for category, value in self.affinities.items():
            number(value, f"affinities.{category}", low=0.0)
        object.__setattr__(self, "affinities", dict(self.affinities))


def _default_personas() -> tuple[PersonaConfig, ...]:
    return (PersonaConfig(name="everyone"),)


@dataclass(frozen=True, kw_only=True)
class PopulationConfig:
    """Users: personas, heavy-tailed activity, new users, anonymous sessions and logins."""

    users: int = 1_000
    personas: tuple[PersonaConfig, ...] = field(default_factory=_default_personas)
    #: affinity of a persona for a category it does not list
    base_affinity: float = 0.1
    #: sigma of the log-normal per-user activity weights (0 = everyone equally active)
    activity_sigma: float = 1.0
    #: share of users whose first visit falls inside the window
    new_user_share: float = 0.1
    #: share of sessions that start anonymous (no USER_ID)
    anonymous_share: float = 0.2
    #: share of anonymous sessions (of at least two events) in which the user logs in midway
    login_share: float = 0.3

    def __post_init__(self) -> None:
        count(self.users, "users", low=1)
        named_items(self.personas, "personas", "persona")
        number(self.base_affinity, "base_affinity", low=0.0)
        number(self.activity_sigma, "activity_sigma", low=0.0)
        probability(self.new_user_share, "new_user_share")
        probability(self.anonymous_share, "anonymous_share")
        probability(self.login_share, "login_share")

    @property
    def persona_shares(self) -> tuple[float, ...]:
        total = math.fsum(p.weight for p in self.personas)
        return tuple(p.weight / total for p in self.personas)


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

    def joined_share(self, t_us: np.ndarray) -> np.ndarray:
        """Share of the whole population's activity that has joined by each time."""
        n = self.joined_by(t_us)
        total = self.cum_activity[-1]
        return np.where(n > 0, self.cum_activity[np.maximum(n, 1) - 1] / total, 0.0)

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


@dataclass(frozen=True, eq=False)
class Sessions:
    """The sessions of a block of time, in start order."""

    start: np.ndarray  # int64 epoch µs, sorted
    user: np.ndarray  # true user number of each session
    anonymous: np.ndarray  # bool: the session starts without a USER_ID


def draw_sessions(
    population: Population, config: PopulationConfig, starts: np.ndarray, rng: np.random.Generator
) -> Sessions:
    """Who starts each session (by activity, among those who have joined), and whether
    the session starts anonymous."""
    n = len(starts)
    user = population.pick(starts, rng.random(n))
    anonymous = rng.random(n) < config.anonymous_share
    return Sessions(start=starts, user=user, anonymous=anonymous)


def visible_users(
    config: PopulationConfig,
    anonymous: np.ndarray,
    events: SessionEvents,
    rng: np.random.Generator,
) -> np.ndarray:
    """Whether each event is sent with its USER_ID.

    Anonymous sessions stay anonymous, except that some (of at least two events) log in
    midway: from a uniform step after the first, their events carry the user.
    """
    lengths = events.lengths
    n = len(lengths)
    logs_in = (rng.random(n) < config.login_share) & (lengths >= 2)
    login_step = 1 + np.floor(rng.random(n) * np.maximum(lengths - 1, 1)).astype(np.int64)
    login_step = np.where(anonymous & logs_in, login_step, np.where(anonymous, lengths, 0))
    return events.step >= login_step[events.session]
