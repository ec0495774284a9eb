"""Fitting users as people: events per user by their session count, their time-of-day habit,
which picks return to an item (the odds of it are ``_fit_choices``'), and values that
depend on the user and the item (see the simulation's ``_users`` for how each is drawn).

Each function takes an :class:`~._interactions.Interactions` and returns plain values for the
traffic section, adding a note when the log cannot tell (every user once, no repeats…).
"""

from __future__ import annotations

import numpy as np

from ..simulation.internal import (
    alike_uniforms,
    draw,
    normal_scores,
    quantile_table,
    seen_before,
)
from ._distances import ks_distance
from ._fit_time import local_hour_weekday
from ._interactions import Interactions

__all__ = ["fit_activity", "fit_hours", "fresh_picks", "value_shares"]

#: lower bounds of the buckets of users (by session count) with their own events-per-user table
USER_BUCKETS = (1, 2, 3, 4, 6, 9, 14, 20, 30, 50)
#: users a bucket needs for its own table (fewer: it joins the next one up)
USER_MIN = 40
#: returning users (two sessions or more) needed to fit a time-of-day habit (per bucket)
HABIT_MIN_USERS = 20
#: returning users the habit test looks at (a sample of a larger log)
HABIT_SAMPLE_USERS = 20_000
#: how far (KS) users' hour concentrations must lie from chance's for a habit to be fitted
HABIT_MIN_KS = 0.05
#: lower bounds of the buckets of returning users (by session count) with their own
#: table of hour concentrations (a user's hours cluster less tightly, by chance, the more
#: sessions they have)
HOUR_BUCKETS = (2, 3, 4, 6, 10, 20)


def fit_activity(
    log: Interactions, notes: list[str]
) -> tuple[tuple[float, ...], tuple[tuple[float, ...], ...], tuple[float, ...]]:
    """(bucket bounds of session counts, session-length percentiles per bucket, the
    correlation of a user's session lengths per bucket)."""
    sessions = np.bincount(log.session_user, minlength=log.n_users)
    lengths = log.session_last - log.session_first + 1
    bounds: list[float] = []
    edges: tuple[float, ...] = (*USER_BUCKETS, np.inf)
    low = edges[0]
    for high in edges[1:]:
        if ((sessions >= low) & (sessions < high)).sum() >= USER_MIN:
            bounds.append(float(low))
            low = high
    if not bounds:
        notes.append(
            f"traffic.session_lengths_by_bucket: fewer than {USER_MIN} users; every user's "
            "sessions have the same lengths, drawn independently"
        )
        return (), (), ()
    bucket = np.searchsorted(np.asarray(bounds), sessions, side="right") - 1
    events = np.bincount(log.user, minlength=log.n_users)
    tables, correlations = [], []
    rng = np.random.default_rng(0)  # the search below simulates: a fit is deterministic
    for b in range(len(bounds)):
        of_session = bucket[log.session_user] == b
        table = quantile_table(lengths[of_session])
        tables.append(table)
        mine = bucket == b
        correlations.append(_length_correlation(table, sessions[mine], events[mine], rng))
    return tuple(bounds), tuple(tables), tuple(correlations)


#: the correlations tried, and users simulated per try (at most)
_RHOS = np.round(np.arange(0.0, 0.96, 0.05), 2)
_SEARCH_USERS = 2000


def _length_correlation(
    table: tuple[float, ...], sessions: np.ndarray, events: np.ndarray, rng: np.random.Generator
) -> float:
    """The correlation whose simulated events per user (for these users' session counts)
    come closest, by KS, to their real events: each of _RHOS tried on the engine's own rule."""
    if sessions.max(initial=0) < 2:
        return 0.0
    if len(sessions) > _SEARCH_USERS:
        keep = rng.choice(len(sessions), _SEARCH_USERS, replace=False)
        sessions, events = sessions[keep], events[keep]
    users = np.arange(len(sessions))
    session_user = np.repeat(users, sessions)

    def distance(rho: float) -> float:
        u = alike_uniforms(rho, users, session_user, np.random.default_rng(1))
        lengths = draw(table, u, discrete=True)
        return ks_distance(np.bincount(session_user, weights=lengths), events)

    # every 0.2, then 0.05 either side of the best
    best = min(_RHOS[::4], key=lambda rho: (distance(float(rho)), rho))
    near = [r for r in _RHOS if abs(r - best) <= 0.1 + 1e-9]
    return float(min(near, key=lambda rho: (distance(float(rho)), rho)))


def fit_hours(
    log: Interactions, timezone: str, notes: list[str]
) -> tuple[tuple[float, ...], tuple[float, ...], tuple[tuple[float, ...], ...]]:
    """(weights of the local hours sessions start in, buckets of session counts, percentiles
    of their users' hour concentration), or empty when too few users return."""
    starts = log.ts[log.session_first]
    hour, _ = local_hour_weekday(starts, timezone)
    minutes = (starts // 60_000_000) % 60  # every real zone offset is whole quarter hours
    hours = hour + minutes / 60.0
    users = log.session_user
    n = np.bincount(users, minlength=log.n_users)
    angle = hours * (2 * np.pi / 24)
    c = np.bincount(users, weights=np.cos(angle), minlength=log.n_users)
    s = np.bincount(users, weights=np.sin(angle), minlength=log.n_users)
    returning = n >= 2
    if returning.sum() < HABIT_MIN_USERS:
        notes.append(
            f"traffic.user_hours: fewer than {HABIT_MIN_USERS} users come back; sessions "
            "follow the hourly profile alone"
        )
        return (), (), ()
    concentration = np.hypot(c, s) / np.maximum(n, 1)
    beyond = _beyond_chance(hours, users, concentration[returning], log.n_users)
    if beyond is not None:
        notes.append(f"traffic.user_hours: {beyond}; no time-of-day habit")
        return (), (), ()
    home = np.bincount(hour, minlength=24).astype(np.float64)
    bounds: list[float] = []
    tables: list[tuple[float, ...]] = []
    edges: tuple[float, ...] = (*HOUR_BUCKETS, np.inf)
    low = edges[0]
    for high in edges[1:]:
        mine = (n >= low) & (n < high)
        if mine.sum() >= HABIT_MIN_USERS:
            bounds.append(float(low))
            tables.append(quantile_table(np.minimum(concentration[mine], 1.0)))
            low = high
        elif high == np.inf and tables:
            tables[-1] = quantile_table(np.minimum(concentration[n >= bounds[-1]], 1.0))
    return tuple(float(round(v, 6)) for v in home), tuple(bounds), tuple(tables)


def _beyond_chance(
    hours: np.ndarray, users: np.ndarray, concentration: np.ndarray, n_users: int
) -> str | None:
    """Why the log shows no habit (None when it does): its returning users' hours cluster
    no more than the same hours dealt out at random would (two-sample KS under the 1 %
    critical value; shuffles from a fixed seed: a fit is deterministic)."""
    rng = np.random.default_rng(0)
    n = np.bincount(users, minlength=n_users)
    if (n >= 2).sum() > HABIT_SAMPLE_USERS:  # a sample of returning users tells as well
        chosen = np.zeros(n_users, dtype=bool)
        chosen[rng.choice(np.flatnonzero(n >= 2), HABIT_SAMPLE_USERS, replace=False)] = True
        kept = chosen[users]
        hours, users = hours[kept], users[kept]
        concentration = (
            np.hypot(
                np.bincount(users, weights=np.cos(hours * 2 * np.pi / 24), minlength=n_users),
                np.bincount(users, weights=np.sin(hours * 2 * np.pi / 24), minlength=n_users),
            )[chosen]
            / n[chosen]
        )
        n = np.bincount(users, minlength=n_users)
    returning = n >= 2
    distances = []
    for _ in range(5):
        angle = rng.permutation(hours) * (2 * np.pi / 24)
        c = np.bincount(users, weights=np.cos(angle), minlength=n_users)
        s = np.bincount(users, weights=np.sin(angle), minlength=n_users)
        shuffled = np.hypot(c, s)[returning] / n[returning]
        distances.append(ks_distance(concentration, shuffled))
    # beyond chance, and by more than the realism report's own tolerance
    critical = max(1.63 * np.sqrt(2 / len(concentration)), HABIT_MIN_KS)
    distance = float(np.mean(distances))
    if distance > critical:
        return None
    return (
        f"users' hours cluster as hours dealt at random would (KS {distance:.3f}, under "
        f"{critical:.3f})"
    )


def fresh_picks(log: Interactions, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(per pick: does it return to an item its user picked before, in time order; each
    pick's user; its item). ``picks``: the item-picking events."""
    user, item = log.user[picks], log.item[picks]
    # the log is in (user, time) order: a pair seen before is a return
    return seen_before(user * np.int64(log.n_items) + item), user, item


#: users (or items) with two values or more needed to fit their share of the values' variance
VALUE_MIN_GROUPS = 20


def value_shares(values: np.ndarray, user: np.ndarray, item: np.ndarray) -> tuple[float, float]:
    """Shares of the values' variance, on a normal scale (normal scores of their ranks), that
    are the user's and the item's own: each the intraclass correlation of one-way analysis
    of variance (between-group less within-group mean squares), 0 when it is negative or the
    groups are too small to tell; together at most 0.95."""
    n = len(values)
    if n < 10:
        return 0.0, 0.0
    order = np.argsort(values, kind="stable")
    ranks = np.empty(n)
    ranks[order] = np.arange(n)
    # ties share their mean rank (a star rating has five values)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranks = (np.bincount(inverse, weights=ranks) / counts)[inverse]
    score = normal_scores((ranks + 0.5) / n)
    score = (score - score.mean()) / max(score.std(), 1e-12)
    shares = [_intraclass(score, np.unique(g, return_inverse=True)[1]) for g in (user, item)]
    total = shares[0] + shares[1]
    if total > 0.95:
        shares = [v * 0.95 / total for v in shares]
    return float(round(shares[0], 4)), float(round(shares[1], 4))


def _intraclass(score: np.ndarray, group: np.ndarray) -> float:
    # groups of one value tell nothing of the spread within a group: left out
    several = np.bincount(group)[group] >= 2
    score, group = score[several], np.unique(group[several], return_inverse=True)[1]
    sizes = np.bincount(group).astype(np.float64)
    k, n = len(sizes), len(score)
    if k < VALUE_MIN_GROUPS:
        return 0.0
    means = np.bincount(group, weights=score) / sizes
    between = np.sum(sizes * (means - score.mean()) ** 2) / (k - 1)
    within = np.sum((score - means[group]) ** 2) / (n - k)
    n0 = (n - np.sum(sizes**2) / n) / (k - 1)  # the mean group size, for unequal groups
    icc = (between - within) / (between + (n0 - 1) * within)
    return float(np.clip(icc, 0.0, 1.0))
