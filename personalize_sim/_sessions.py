"""Sessions by inactivity, one home: a user's events split wherever ``session_gap`` seconds
pass with no event (the usual web-analytics timeout, 30 minutes, by default).

A log without ``SESSION_ID`` needs it: a real interactions log read by ``fit`` and
``realism_report``, a bulk-import CSV read back by ``personalize-sim stream``; the fitted
traffic's ``session_gap`` keeps simulated sessions apart by the same rule.

>>> import numpy as np
>>> session_ids(np.array(["a", "b", "a", "a"], dtype=object),
...             np.array([0, 0, 60, 7200], dtype=np.int64) * 1_000_000).tolist()
['a-1', 'b-1', 'a-1', 'a-2']
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEFAULT_SESSION_GAP", "session_ids", "session_starts"]

#: seconds of inactivity that end a session
DEFAULT_SESSION_GAP = 1800.0


def session_starts(
    user: np.ndarray, ts_us: np.ndarray, session_gap: float = DEFAULT_SESSION_GAP
) -> np.ndarray:
    """Where a session starts in events sorted by (user, time): a new user, or more than
    ``session_gap`` seconds since the user's previous event.

    >>> session_starts(np.array([0, 0, 0, 1]), np.array([0, 1, 1802, 1802]) * 1_000_000).tolist()
    [True, False, True, True]
    """
    new_user = np.diff(user, prepend=-1) != 0
    if not len(ts_us):
        return new_user
    return new_user | (np.diff(ts_us, prepend=ts_us[0]) > session_gap * 1e6)


def session_ids(
    users: Any, ts_us: np.ndarray, session_gap: float = DEFAULT_SESSION_GAP
) -> np.ndarray:
    """``<user>-<n>`` for each event (frame order): the n-th session of its user, counted in
    time order; an anonymous event (null user) counts under ``anonymous``."""
    import pandas as pd

    if not len(ts_us):
        return np.empty(0, dtype=object)
    users = pd.Series(users, dtype=object)
    try:
        codes, names = pd.factorize(users, use_na_sentinel=True)
    except TypeError:  # unhashable ids (lists…), which the payload check reports: as text
        codes, names = pd.factorize(users.map(lambda v: v if isinstance(v, str) else repr(v)))
    codes = np.asarray(codes, dtype=np.int64)
    order = np.lexsort((ts_us, codes))  # stable: equal times keep their frame order
    user, starts = codes[order], session_starts(codes[order], ts_us[order], session_gap)
    number = np.cumsum(starts)
    first = np.maximum.accumulate(np.where(np.diff(user, prepend=user[:1] - 1) != 0, number, 0))
    labels = np.append(np.asarray(names, dtype=object).astype(str), "anonymous")
    ids = np.empty(len(order), dtype=object)
    ids[order] = [
        f"{name}-{n}" for name, n in zip(labels[user], (number - first + 1).tolist(), strict=True)
    ]
    return ids
