"""Fitted traffic: every user's sessions planned ahead from empirical distributions.

A config with a ``traffic`` section (what :func:`~personalize_sim.simulation.fit`
returns) replaces the Poisson arrivals and the funnel's exit probabilities with
distributions measured on a real log:

* each of ``population.users`` users has a number of sessions drawn from
  ``sessions_per_user`` (heavy tails included), laid around one of them that starts at a
  uniform time of the window; sessions laid outside the window come back into it by
  whole weeks, so users keep their sessions and the traffic is as busy at the window's
  edges as in its middle;
* a session has ``session_lengths`` events (or, when that is empty, as many as the
  funnel's exit probabilities give), ``time.gap`` apart;
* each next session of a user starts an idle time after the previous one ends, drawn
  from ``idle_gaps``, or from the table of the user's bucket of session counts in
  ``idle_gaps_by_sessions`` (busy users come back sooner).

**Profile time.** Idle times are measured on a clock that runs faster when the
profiles are busy (:class:`ProfileClock`: one profile-second per second at the
profiles' mean intensity), so a user who comes back "a day later" comes back at a
busy hour as often as the log's users do, and the daily and weekly profiles hold for
returning sessions as well as first ones. An idle time is always longer than
``session_gap`` in real seconds, so splitting the traffic by that inactivity gap
finds the planned sessions again.

>>> TrafficConfig(sessions_per_user=(1, 2, 9), idle_gaps=(1800, 3600, 86400)).session_gap
1800.0
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check, instance, number, positive
from .._sessions import DEFAULT_SESSION_GAP
from ._arrivals import SLOT_US, slot_intensity
from ._quantiles import check_table, draw
from ._users import hour_habit, session_lengths, stratified

if TYPE_CHECKING:
    from ._arrivals import TimeConfig
    from ._config import SimulationConfig
    from ._funnel import Chain

__all__ = ["Plan", "ProfileClock", "TrafficConfig", "plan_traffic"]


@dataclass(frozen=True, kw_only=True)
class TrafficConfig:
    """Empirical shape of a site's traffic, as quantile tables (101 values: percentiles).

    ``notes`` says which fields a fit could not estimate from its log and why.
    """

    #: percentiles of the number of sessions per user (every user has at least one)
    sessions_per_user: tuple[float, ...] = (1.0, 1.0)
    #: percentiles of events per session; empty: the funnel's exit probabilities decide
    session_lengths: tuple[float, ...] = ()
    #: percentiles of the idle time between two sessions of a user, in profile-seconds
    idle_gaps: tuple[float, ...] = (86_400.0, 86_400.0)
    #: busy users come back sooner: users with at least ``idle_buckets[i]`` sessions (and
    #: fewer than the next bound) wait ``idle_gaps_by_sessions[i]`` (percentiles) instead
    idle_buckets: tuple[float, ...] = ()
    idle_gaps_by_sessions: tuple[tuple[float, ...], ...] = ()
    #: a user, not a bag of marginals (see ``_users``): the sessions of users with at least
    #: ``user_buckets[i]`` sessions (and fewer than the next bound) have
    #: ``session_lengths_by_bucket[i]`` events (percentiles), a user's sessions alike with
    #: correlation ``length_correlation[i]`` (0: independent, 1: all the same length)
    user_buckets: tuple[float, ...] = ()
    session_lengths_by_bucket: tuple[tuple[float, ...], ...] = ()
    length_correlation: tuple[float, ...] = ()
    #: time-of-day habit: weights of returning users' own mean local hour (24; empty:
    #: none) …
    user_hours: tuple[float, ...] = ()
    #: … and how tightly their sessions' hours cluster around it: users with at least
    #: ``hour_buckets[i]`` sessions have a concentration (the length of the mean vector of
    #: their hours on the 24-hour circle: 1 always the same hour) from ``hour_concentrations[i]``
    hour_buckets: tuple[float, ...] = ()
    hour_concentrations: tuple[tuple[float, ...], ...] = ()
    #: how much likelier a pick returns to an item its user picked before than popularity
    #: alone says (odds ratio): 1 as with replacement, 0 never (see ``_users``)
    repeat_odds: float = 1.0
    #: inactivity (seconds) that splits sessions: an idle time is never shorter
    session_gap: float = DEFAULT_SESSION_GAP
    #: what a fit could not estimate and fell back on (free text, one line each)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        spu = check_table(self.sessions_per_user, "sessions_per_user", low=1.0)
        object.__setattr__(self, "sessions_per_user", spu)
        if self.session_lengths:
            lengths = check_table(self.session_lengths, "session_lengths", low=1.0)
            object.__setattr__(self, "session_lengths", lengths)
        else:
            object.__setattr__(self, "session_lengths", ())
        object.__setattr__(self, "idle_gaps", check_table(self.idle_gaps, "idle_gaps"))
        self._check_buckets()
        self._check_users()
        object.__setattr__(self, "session_gap", positive(self.session_gap, "session_gap"))
        instance(self.notes, "notes", (tuple, list), "a list of strings")
        check(all(isinstance(n, str) for n in self.notes), "notes", self.notes, "strings")
        object.__setattr__(self, "notes", tuple(self.notes))

    def _check_buckets(self) -> None:
        bounds = _bounds(self.idle_buckets, "idle_buckets")
        tables = self.idle_gaps_by_sessions
        check(
            isinstance(tables, list | tuple) and len(tables) == len(bounds),
            "idle_gaps_by_sessions",
            tables,
            f"one percentile table per bucket of idle_buckets ({len(bounds)})",
        )
        checked = tuple(check_table(t, f"idle_gaps_by_sessions[{i}]") for i, t in enumerate(tables))
        object.__setattr__(self, "idle_buckets", bounds)
        object.__setattr__(self, "idle_gaps_by_sessions", checked)

    def _check_users(self) -> None:
        bounds = _bounds(self.user_buckets, "user_buckets")
        tables, rhos = self.session_lengths_by_bucket, self.length_correlation
        for name, values in (("session_lengths_by_bucket", tables), ("length_correlation", rhos)):
            check(
                isinstance(values, list | tuple) and len(values) == len(bounds), name, values,
                f"one per bucket of user_buckets ({len(bounds)})",
            )  # fmt: skip
        checked = tuple(
            check_table(t, f"session_lengths_by_bucket[{i}]", low=1.0) for i, t in enumerate(tables)
        )
        correlations = tuple(
            number(r, f"length_correlation[{i}]", low=0.0, high=1.0) for i, r in enumerate(rhos)
        )
        object.__setattr__(self, "user_buckets", bounds)
        object.__setattr__(self, "session_lengths_by_bucket", checked)
        object.__setattr__(self, "length_correlation", correlations)
        hours = tuple(self.user_hours)
        hour_bounds = _bounds(self.hour_buckets, "hour_buckets")
        if hours or hour_bounds:
            check(
                len(hours) == 24 and all(isinstance(h, int | float) and h >= 0 for h in hours)
                and sum(hours) > 0,
                "user_hours", self.user_hours, "24 non-negative weights (one per local hour)",
            )  # fmt: skip
            check(
                len(self.hour_concentrations) == len(hour_bounds) > 0,
                "hour_concentrations", self.hour_concentrations,
                "one percentile table per bucket of hour_buckets",
            )  # fmt: skip
            hour_tables: list[tuple[float, ...]] = []
            for i, table in enumerate(self.hour_concentrations):
                checked_table = check_table(table, f"hour_concentrations[{i}]")
                check(checked_table[-1] <= 1.0, f"hour_concentrations[{i}]", checked_table[-1],
                      "concentrations in [0, 1]")  # fmt: skip
                hour_tables.append(checked_table)
            object.__setattr__(self, "user_hours", tuple(float(h) for h in hours))
            object.__setattr__(self, "hour_concentrations", tuple(hour_tables))
        object.__setattr__(self, "hour_buckets", hour_bounds)
        object.__setattr__(self, "repeat_odds", number(self.repeat_odds, "repeat_odds", low=0.0))

    def idle_table(self, sessions: int) -> tuple[float, ...]:
        """The idle-time percentiles of a user with ``sessions`` sessions."""
        bucket = int(np.searchsorted(np.asarray(self.idle_buckets), sessions, side="right")) - 1
        return self.idle_gaps_by_sessions[bucket] if bucket >= 0 else self.idle_gaps


def _bounds(values: object, field: str) -> tuple[float, ...]:
    """Increasing session counts, each a bucket's lower bound (or none)."""
    instance(values, field, (tuple, list), "a list of session counts")
    assert isinstance(values, tuple | list)
    bounds = tuple(number(b, f"{field}[{i}]", low=1.0) for i, b in enumerate(values))
    check(
        all(b < c for b, c in itertools.pairwise(bounds)), field, list(bounds),
        "increasing session counts (each bucket's lower bound), or empty",
    )  # fmt: skip
    return bounds


class ProfileClock:
    """Real time (epoch µs) ⇄ profile time (µs at the profiles' intensity) over a window.

    The profiles' intensity is constant on 15-minute UTC slots (as for arrivals), so
    the map is piecewise linear; it covers the window and as long again on either side,
    and runs at intensity 1 beyond.
    """

    def __init__(self, time: TimeConfig, start_us: int, end_us: int) -> None:
        # the profiles hold on either side of the window too (users' sessions are laid
        # there before coming back in by whole weeks): as far again as the window, and at
        # least a week
        pad = max(end_us - start_us, 7 * 86_400_000_000)
        first = start_us - pad - (start_us - pad) % SLOT_US
        self.edges = np.arange(first, end_us + pad + SLOT_US, SLOT_US, dtype=np.int64)
        self.rate = slot_intensity(time, self.edges)
        self.cum = np.concatenate(([0.0], np.cumsum(self.rate * SLOT_US)))

    def forward(self, t_us: np.ndarray) -> np.ndarray:
        """Profile time (float µs) of real times."""
        t = np.asarray(t_us, dtype=np.int64)
        slot = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, len(self.rate) - 1)
        inside = self.cum[slot] + self.rate[slot] * (t - self.edges[slot])
        before = (t - self.edges[0]).astype(np.float64)
        after = self.cum[-1] + (t - self.edges[-1]).astype(np.float64)
        return np.where(t < self.edges[0], before, np.where(t >= self.edges[-1], after, inside))

    def back(self, p: np.ndarray) -> np.ndarray:
        """Real times (epoch µs, int64) of profile times (the inverse of :meth:`forward`)."""
        p = np.asarray(p, dtype=np.float64)
        slot = np.clip(np.searchsorted(self.cum, p, side="right") - 1, 0, len(self.rate) - 1)
        rate = self.rate[slot]
        within = np.divide(p - self.cum[slot], rate, out=np.zeros_like(p), where=rate > 0)
        inside = self.edges[slot] + within
        before = self.edges[0] + p
        after = self.edges[-1] + (p - self.cum[-1])
        real = np.where(p < 0, before, np.where(p >= self.cum[-1], after, inside))
        return np.rint(real).astype(np.int64)


@dataclass(frozen=True, eq=False)
class Plan:
    """Every session of the window in start order, and its events' types and offsets."""

    start: np.ndarray  # int64 epoch µs, sorted
    user: np.ndarray  # int32 user number of each session
    lengths: np.ndarray  # int64 events per session
    first_event: np.ndarray  # int64 index of each session's first event (len = sessions + 1)
    etype: np.ndarray  # int8 event type of each event, session by session
    offset: np.ndarray  # int64 µs from its session's start to each event
    #: int64 organic item of each event (picks only; see ``_item_plan.plan_items``)
    item: np.ndarray | None = None

    def span(self, b0: int, b1: int) -> tuple[int, int]:
        """The sessions [lo, hi) that start in [b0, b1)."""
        lo, hi = np.searchsorted(self.start, [b0, b1], side="left")
        return int(lo), int(hi)


def plan_traffic(
    config: SimulationConfig, chain: Chain, start_us: int, end_us: int, rng: np.random.Generator
) -> Plan:
    """Draw every user's sessions, their lengths, event types and times (one stream)."""
    from ._funnel import _gaps_us

    traffic = config.traffic
    assert traffic is not None
    users = config.population.users
    n = draw(traffic.sessions_per_user, stratified(users, rng), discrete=True).astype(np.int64)
    n = np.maximum(n, 1)
    user = np.repeat(np.arange(users, dtype=np.int32), n)
    total = len(user)
    if traffic.session_lengths or traffic.session_lengths_by_bucket:
        lengths = session_lengths(traffic, n, config.funnel.max_events, rng)
        events = chain.run_lengths(lengths, rng)
    else:
        events = chain.run(total, rng)
    gaps = _gaps_us(config.time.gap, len(events.etype), rng)
    gaps[events.step == 0] = 0
    elapsed = np.cumsum(gaps)
    first_event = np.concatenate(([0], np.cumsum(events.lengths)))
    offset = elapsed - elapsed[first_event[:-1]][events.session]
    duration = offset[first_event[1:] - 1].astype(np.float64)
    start = _session_starts(config, traffic, user, n, duration, start_us, end_us, rng)
    order = np.argsort(start, kind="stable")
    kept = order[(start[order] >= start_us) & (start[order] < end_us)]
    lengths = events.lengths[kept]
    new_first = np.concatenate(([0], np.cumsum(lengths)))
    moved = np.repeat(first_event[kept] - new_first[:-1], lengths) + np.arange(new_first[-1])
    return Plan(
        start=start[kept],
        user=user[kept],
        lengths=lengths,
        first_event=new_first,
        etype=events.etype[moved],
        offset=offset[moved],
    )


def _session_starts(
    config: SimulationConfig,
    traffic: TrafficConfig,
    user: np.ndarray,
    n: np.ndarray,
    duration: np.ndarray,
    start_us: int,
    end_us: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Start (epoch µs) of each session, users' sessions laid out one after another."""
    import pandas as pd

    clock = ProfileClock(config.time, start_us, end_us)
    p0, p1 = clock.forward(np.array([start_us, end_us]))
    first = np.concatenate(([0], np.cumsum(n)[:-1]))
    is_first = np.zeros(len(user), dtype=bool)
    is_first[first] = True
    u = rng.random(len(user))
    idle = draw(traffic.idle_gaps, u, discrete=False)
    sessions_of = n[user]
    for i, bound in enumerate(traffic.idle_buckets):
        upper = traffic.idle_buckets[i + 1] if i + 1 < len(traffic.idle_buckets) else np.inf
        mine = np.flatnonzero((sessions_of >= bound) & (sessions_of < upper))
        idle[mine] = draw(traffic.idle_gaps_by_sessions[i], u[mine], discrete=False)
    idle *= 1e6
    idle[is_first] = 0.0
    # a user's sessions fit in the window, as a log's users' do: one whose idle times add
    # up to more has them shortened in proportion (otherwise they would overlap)
    window = p1 - p0
    busy = np.bincount(user, weights=duration, minlength=len(n))
    waiting = np.bincount(user, weights=idle, minlength=len(n))
    room = np.maximum(window * 0.999 - busy, 0.0)
    idle *= np.where(waiting > room, room / np.maximum(waiting, 1.0), 1.0)[user]
    # profile time from the user's first start: the sessions and idle times before it
    step = idle + np.concatenate(([0.0], duration[:-1]))
    step[is_first] = 0.0
    since_first = _segment_cumsum(step, first)
    # laid round the window as on a circle from a uniform start: the traffic is as busy
    # at the window's edges as in its middle (a log sees ongoing traffic), and every idle
    # time is one drawn but the one across the window's end
    first_p = rng.random(len(n)) * window
    start = clock.back(p0 + (first_p[user] + since_first) % window)
    start = hour_habit(traffic, config.time.timezone, user, n, start, rng)
    # a user's sessions in the order they now start (the habit may move one before another)
    perm = np.lexsort((start, user))
    start, duration = start[perm], duration[perm]
    # a session never starts within session_gap of the previous one's end (real time):
    # start'_k = C_k + max_{j<=k}(start_j - C_j), C the real minimum time since the first
    gap_us = traffic.session_gap * 1e6 + 1
    least = np.concatenate(([0.0], duration[:-1] + gap_us))
    least[is_first] = 0.0
    c = np.rint(_segment_cumsum(least, first)).astype(np.int64)
    lifted = pd.Series(start - c).groupby(user).cummax().to_numpy() + c
    # the window sees ongoing traffic: sessions laid outside it come back in by whole
    # weeks (same UTC hour and weekday), so a user keeps its sessions and the traffic is
    # as busy at the window's edges as in its middle (a window shorter than a week, and
    # its last partial week, only see the sessions laid inside)
    week = 7 * 86_400_000_000
    period = (end_us - start_us) // week * week
    if period:
        outside = (lifted < start_us) | (lifted >= end_us)
        lifted[outside] = start_us + (lifted[outside] - start_us) % period
    out = np.empty_like(lifted)
    out[perm] = lifted
    return out


def _segment_cumsum(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each index of ``first`` (segments laid end to end)."""
    total = np.cumsum(values)
    base = total[first] - values[first]
    lengths = np.diff(np.concatenate((first, [len(values)])))
    return total - np.repeat(base, lengths)
