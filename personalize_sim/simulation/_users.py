"""Fitted traffic's users: each a person, not a bag of marginals.

Three habits tie a user's events together (each fitted by ``calibration.fit``, each off
when its fields are empty):

* **Activity.** Users are bucketed by their number of sessions, and each bucket has its own
  table of session lengths (``traffic.session_lengths_by_bucket``), so a user who comes
  rarely can do much at once (as raters of films do) while one who comes daily does little
  each time: the joint distribution of the two, as quantile tables by bucket (any shape of
  dependence a log has, as plain numbers in YAML). Within a bucket a user's sessions are
  alike (``length_correlation``: a Gaussian copula with one shared normal per user, which
  ``fit`` chooses so that the bucket's events per user match the log's). Users' ranks are
  stratified (one user per 1/n of probability), so a run of n users matches the tables as
  closely as n allows, not only on average.
* **Time of day.** A returning user has a home hour (drawn from ``traffic.user_hours``, the
  hours of the log's sessions), and each of their sessions is drawn towards it on the day
  the idle times gave, by the same share of the way: as far as it takes for their hours to
  cluster as tightly as those of the log's user of the same rank and session count
  (``hour_concentrations``; rank by the concentration before the move, so a user whose
  hours already cluster by chance barely moves). Homes are reweighted until the sessions'
  hours follow ``user_hours`` again, so the hourly profile holds. ``fit`` leaves the habit
  out when the log's users cluster no more than chance would.
* **Coming back to items** (``repeat_odds``): the items of the whole window are planned at
  once, so each user's history is known (``_item_plan``).

>>> u = stratified(4, np.random.default_rng(0))
>>> np.sort(np.floor(u * 4)).tolist()  # one in each quarter
[0.0, 1.0, 2.0, 3.0]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._quantiles import draw

if TYPE_CHECKING:
    from ._traffic import TrafficConfig

__all__ = [
    "alike_uniforms", "concentration", "hour_habit", "normal_scores", "session_lengths",
    "stratified",
]  # fmt: skip

#: rounds of reweighting homes so that the hourly profile holds
HOME_ROUNDS = 2


def stratified(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniforms, one in each of the n equal strata of [0, 1), in random order."""
    return (rng.permutation(n) + rng.random(n)) / max(n, 1)


def _segment_starts(lengths: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)


def session_lengths(
    traffic: TrafficConfig, n: np.ndarray, max_events: int, rng: np.random.Generator
) -> np.ndarray:
    """Events of each session (users' sessions one after another), at most ``max_events``."""
    total = int(n.sum())
    if not traffic.session_lengths_by_bucket:
        if not traffic.session_lengths:
            return np.ones(total, dtype=np.int64)
        lengths = draw(traffic.session_lengths, rng.random(total), discrete=True)
        return np.clip(lengths.astype(np.int64), 1, max_events)
    user = np.repeat(np.arange(len(n)), n)
    bucket = np.searchsorted(np.asarray(traffic.user_buckets), n, side="right") - 1
    lengths = np.ones(total, dtype=np.int64)
    for b, table in enumerate(traffic.session_lengths_by_bucket):
        mine = np.flatnonzero(bucket == b)
        sessions = np.flatnonzero(bucket[user] == b)
        u = alike_uniforms(traffic.length_correlation[b], mine, user[sessions], rng)
        lengths[sessions] = draw(table, u, discrete=True)
    if traffic.session_lengths:  # users below the first bucket
        below = np.flatnonzero(bucket[user] < 0)
        lengths[below] = draw(traffic.session_lengths, rng.random(len(below)), discrete=True)
    return np.clip(lengths, 1, max_events)


def alike_uniforms(
    rho: float, users: np.ndarray, session_user: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A uniform per session (``session_user``: each session's user, among ``users``) whose
    sessions of one user are alike with correlation ``rho``: a Gaussian copula, each user a
    shared normal and each session its own, made uniform by rank (exact uniforms, no CDF)."""
    shared = np.zeros(int(users.max(initial=-1)) + 1)
    # users' shared parts stratified (normal scores of evenly spaced ranks)
    shared[users] = normal_scores(stratified(len(users), rng))
    g = np.sqrt(rho) * shared[session_user] + np.sqrt(1 - rho) * rng.standard_normal(
        len(session_user)
    )
    ranks = np.empty(len(g))
    ranks[np.argsort(g, kind="stable")] = np.arange(len(g))
    return (ranks + rng.random(len(g))) / max(len(g), 1)


def normal_scores(u: np.ndarray) -> np.ndarray:
    """Standard normal quantiles of ``u`` in (0, 1), to about 4.5e-4 (Hastings' rational
    approximation: numpy has no inverse normal, and scipy is not a dependency)."""
    u = np.clip(u, 1e-9, 1 - 1e-9)
    t = np.sqrt(-2 * np.log(np.minimum(u, 1 - u)))
    z = t - (2.515517 + 0.802853 * t + 0.010328 * t**2) / (
        1 + 1.432788 * t + 0.189269 * t**2 + 0.001308 * t**3
    )
    return np.where(u < 0.5, -z, z)


def hour_habit(
    traffic: TrafficConfig,
    timezone: str,
    user: np.ndarray,
    n: np.ndarray,
    start: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Returning users' sessions drawn, on their local day, towards the user's home hour:
    each a share ``1 - t`` of the way, ``t`` the user's own, chosen so that their hours
    cluster as tightly as the log's users' of the same rank and session count do. Homes are
    then reweighted (HOME_ROUNDS times) until the sessions' hours follow ``user_hours``."""
    if not traffic.user_hours:
        return start
    import pandas as pd

    local = pd.DatetimeIndex(start.astype("datetime64[us]"), tz="UTC").tz_convert(timezone)
    midnight = local.normalize().tz_convert("UTC").as_unit("us").asi8
    hour = (start - midnight) / 3.6e9
    wanted = np.asarray(traffic.user_hours, dtype=np.float64)
    wanted = wanted / wanted.sum()
    weights = wanted.copy()
    # homes laid by the users' sessions (users in random order, each at the middle of its
    # share of all sessions), so the hours follow the weights as closely as the users'
    # sizes allow, not only on average (a busy user's home weighs many sessions)
    order = rng.permutation(len(n))
    u_home = np.empty(len(n))
    u_home[order] = (np.cumsum(n[order]) - n[order] / 2) / max(n.sum(), 1)
    within = rng.random(len(n))
    target = _targets(traffic, n, concentration(hour, user, len(n)), rng)
    for _ in range(HOME_ROUNDS):
        cdf = np.cumsum(weights) / weights.sum()
        home = np.minimum(np.searchsorted(cdf, u_home, side="right"), 23) + within
        # the signed way from home to each session's hour (the shorter way round the clock)
        away = (hour - home[user] + 12.0) % 24.0 - 12.0
        t = _share_kept(hour, away, user, target)
        moved = (hour + (t[user] - 1.0) * away) % 24.0
        got = np.bincount(np.floor(moved).astype(np.int64) % 24, minlength=24) / len(moved)
        weights = weights * np.sqrt(wanted / np.maximum(got, 1e-9))
    shift = np.rint((t[user] - 1.0) * away * 3.6e9).astype(np.int64)
    return start + shift


def _share_kept(
    hour: np.ndarray, away: np.ndarray, user: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Per user, the share t of each session's way from home kept (0: at home, 1: unmoved)
    that gives the target concentration (bisection; the loosest t that reaches it)."""
    low, high = np.zeros(len(target)), np.ones(len(target))
    for _ in range(11):  # t to within 1/2048
        mid = (low + high) / 2
        loose = concentration(hour + (mid[user] - 1.0) * away, user, len(target)) < target
        low, high = np.where(loose, low, mid), np.where(loose, mid, high)
    return np.where(target < 0, 1.0, low)


def concentration(hours: np.ndarray, user: np.ndarray, users: int) -> np.ndarray:
    """Per user, the length of the mean vector of their hours on the 24-hour circle."""
    angle = hours * (2 * np.pi / 24)
    count = np.maximum(np.bincount(user, minlength=users), 1)
    c = np.bincount(user, weights=np.cos(angle), minlength=users)
    s = np.bincount(user, weights=np.sin(angle), minlength=users)
    return np.hypot(c, s) / count


def _targets(
    traffic: TrafficConfig, n: np.ndarray, natural: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each user's concentration to reach: their bucket's table at the rank of the
    concentration they have before any move (so a log without habits asks for no move)."""
    target = np.full(len(n), -1.0)  # users in no bucket (one session) stay where they are
    bucket = np.searchsorted(np.asarray(traffic.hour_buckets), n, side="right") - 1
    for b, table in enumerate(traffic.hour_concentrations):
        mine = np.flatnonzero(bucket == b)
        order = mine[np.argsort(natural[mine] + 1e-9 * rng.random(len(mine)))]
        rank = (np.arange(len(mine)) + rng.random(len(mine))) / max(len(mine), 1)
        target[order] = draw(table, rank, discrete=False)
    return target
