"""What a log says about its users, one number per user (or per item), for the realism report
and for ``fit``: how many events and distinct items each user has, how often they come back
to an item, whether busy users have short sessions, and how tightly their hours cluster.

>>> import pandas as pd
>>> from ._interactions import read_interactions
>>> log = read_interactions(pd.DataFrame({"USER_ID": ["a", "a", "a", "b"],
...     "ITEM_ID": ["x", "y", "x", "x"], "TIMESTAMP": [0, 60, 7200, 0]}))
>>> events_per_user(log).tolist(), items_per_user(log).tolist(), repeat_share(log)
([3, 1], [2, 1], 0.25)
"""

from __future__ import annotations

import numpy as np

from ._interactions import Interactions

__all__ = [
    "events_per_user",
    "hour_concentration",
    "item_counts",
    "items_per_user",
    "repeat_flags",
    "repeat_share",
    "sessions_length_correlation",
]


def events_per_user(log: Interactions) -> np.ndarray:
    counts = np.bincount(log.user, minlength=log.n_users)
    return counts[counts > 0]


def items_per_user(log: Interactions) -> np.ndarray:
    """Distinct items each user touched."""
    pairs = np.unique(log.user * np.int64(log.n_items) + log.item)
    counts = np.bincount(pairs // log.n_items, minlength=log.n_users)
    return counts[counts > 0]


def repeat_flags(log: Interactions) -> np.ndarray:
    """True for an event whose (user, item) pair the user touched before (in time order)."""
    order = np.lexsort((log.ts, log.item, log.user))  # a stable order among equal times
    key = log.user[order] * np.int64(log.n_items) + log.item[order]
    again = np.zeros(len(key), dtype=bool)
    again[1:] = key[1:] == key[:-1]
    flags = np.empty(len(key), dtype=bool)
    flags[order] = again
    return flags


def repeat_share(log: Interactions) -> float:
    """Share of events that repeat a (user, item) pair."""
    return float(repeat_flags(log).mean()) if len(log.user) else 0.0


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank)."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(len(x), dtype=np.float64)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (0 when either side is constant)."""
    if len(a) < 3:
        return 0.0
    ra, rb = _ranks(np.asarray(a, float)), _ranks(np.asarray(b, float))
    sa, sb = ra.std(), rb.std()
    if sa == 0 or sb == 0:
        return 0.0
    return float(np.mean((ra - ra.mean()) * (rb - rb.mean())) / (sa * sb))


def sessions_and_mean_length(log: Interactions) -> tuple[np.ndarray, np.ndarray]:
    """Per user with a session: the number of sessions and their mean length (events)."""
    lengths = log.session_last - log.session_first + 1
    users = log.session_user
    sessions = np.bincount(users, minlength=log.n_users)
    events = np.bincount(users, weights=lengths, minlength=log.n_users)
    seen = sessions > 0
    return sessions[seen], events[seen] / sessions[seen]


def sessions_length_correlation(log: Interactions) -> float:
    """Rank correlation between a user's session count and mean session length (negative:
    users who come rarely do much at once)."""
    return spearman(*sessions_and_mean_length(log))


def hour_concentration(hours: np.ndarray, users: np.ndarray) -> np.ndarray:
    """Per user with two sessions or more: the length of the mean vector of their session
    start hours on the 24-hour circle (1: always the same hour; near 0: any hour)."""
    angle = np.asarray(hours, dtype=np.float64) * (2 * np.pi / 24)
    n = np.bincount(users)
    c = np.bincount(users, weights=np.cos(angle), minlength=len(n))
    s = np.bincount(users, weights=np.sin(angle), minlength=len(n))
    many = n >= 2
    return np.hypot(c[many], s[many]) / n[many]


def item_counts(log: Interactions) -> np.ndarray:
    """Events per item, for items with at least one."""
    counts = np.bincount(log.item, minlength=log.n_items)
    return counts[counts > 0]
