"""An interactions log read into arrays, split into sessions: what fit and realism share.

A log is any events frame in the interactions-dataset layout: ``USER_ID``, ``ITEM_ID``
and ``TIMESTAMP`` at least; ``EVENT_TYPE``, ``EVENT_VALUE`` and ``SESSION_ID`` when it
has them. Timestamps are datetimes (naive means UTC), ISO strings, or epoch numbers
whose unit (seconds, ms, µs or ns, as the interactions dataset's epoch seconds) is read
from their size; a column that mixes units is an error, not a guess.

**Sessions.** With ``SESSION_ID`` a session is a user's events with one id; without
it, a user's events are split wherever ``session_gap`` seconds (default 30 minutes,
the usual web-analytics inactivity timeout) pass with no event.

>>> import pandas as pd
>>> log = read_interactions(pd.DataFrame({"USER_ID": ["a", "a", "a"], "ITEM_ID": ["x", "y", "x"],
...                              "TIMESTAMP": [0, 60, 7200]}))
>>> log.session.tolist(), log.source
([0, 0, 1], 'split by 1800 s of inactivity')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check, factorized, positive
from .._schema import EVENT_TYPE, EVENT_VALUE, ITEM_ID, SESSION_ID, TIMESTAMP, USER_ID
from .._sessions import DEFAULT_SESSION_GAP, session_starts
from .._timestamps import epoch_us_of
from ..errors import ConfigError

__all__ = ["Interactions", "read_interactions"]


@dataclass(frozen=True, eq=False)
class Interactions:
    """A log's events sorted by (user, time), as codes and numbers."""

    user: np.ndarray  # int64 user code
    item: np.ndarray  # int64 item code
    ts: np.ndarray  # int64 epoch µs
    etype: np.ndarray  # int64 event type code
    type_names: tuple[str, ...]
    value: np.ndarray  # float64 EVENT_VALUE, NaN when none
    session: np.ndarray  # int64 session number (sessions numbered in (user, start) order)
    n_users: int
    n_items: int
    #: how sessions were found: "SESSION_ID" or "split by … s of inactivity"
    source: str

    @functools.cached_property
    def session_first(self) -> np.ndarray:
        """Index of each session's first event (sessions are contiguous)."""
        return np.flatnonzero(np.diff(self.session, prepend=-1) != 0)

    @functools.cached_property
    def session_last(self) -> np.ndarray:
        return np.append(self.session_first[1:] - 1, len(self.session) - 1)

    @functools.cached_property
    def session_user(self) -> np.ndarray:
        return self.user[self.session_first]


def read_interactions(
    frame: Any, *, session_gap: float | None = None, event_type: str = "Event"
) -> Interactions:
    """Check and read an events frame (see the module docstring); ``event_type`` names
    the one event type of a log without ``EVENT_TYPE``."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ConfigError("log", type(frame).__name__, "a pandas DataFrame of events")
    missing = [c for c in (USER_ID, ITEM_ID, TIMESTAMP) if c not in frame.columns]
    check(
        not missing,
        "log",
        f"columns {list(frame.columns)}",
        f"an events frame with {', '.join(missing)} (missing; USER_ID, ITEM_ID and "
        "TIMESTAMP are required, EVENT_TYPE, EVENT_VALUE and SESSION_ID optional)",
    )
    check(len(frame) > 0, "log", "0 rows", "at least one event")
    for column in (USER_ID, ITEM_ID):
        nulls = np.flatnonzero(frame[column].isna().to_numpy())
        check(
            len(nulls) == 0,
            f"log.{column}",
            f"null in row {nulls[0] if len(nulls) else ''} ({len(nulls)} rows)",
            "an id on every row (drop anonymous events first: they cannot be split by user)",
        )
    ts = epoch_us_of(frame[TIMESTAMP], f"log.{TIMESTAMP}")
    user_codes, _ = factorized(frame[USER_ID], f"log.{USER_ID}")
    item_codes, items = factorized(frame[ITEM_ID], f"log.{ITEM_ID}")
    if EVENT_TYPE in frame.columns:
        types = frame[EVENT_TYPE].astype("string").fillna("(none)")
        type_codes, type_names = pd.factorize(types, sort=False)
        names = tuple(str(t) for t in type_names)
    else:
        type_codes, names = np.zeros(len(frame), dtype=np.int64), (event_type,)
    value = (
        pd.to_numeric(frame[EVENT_VALUE], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        if EVENT_VALUE in frame.columns
        else np.full(len(frame), np.nan)
    )
    keys: list[np.ndarray] = [ts, user_codes]
    sid = None
    if SESSION_ID in frame.columns and session_gap is None and not frame[SESSION_ID].isna().any():
        sid, _ = factorized(frame[SESSION_ID], f"log.{SESSION_ID}")
        keys = [ts, sid, user_codes]
    order = np.lexsort(keys)
    user, ts = user_codes[order].astype(np.int64, copy=False), ts[order]
    gap = DEFAULT_SESSION_GAP if session_gap is None else positive(session_gap, "session_gap")
    if sid is not None:
        sid = sid[order]
        starts = (np.diff(user, prepend=-1) != 0) | (np.diff(sid, prepend=-1) != 0)
        source = "SESSION_ID"
    else:
        starts = session_starts(user, ts, gap)
        source = f"split by {gap:g} s of inactivity"
    return Interactions(
        user=user,
        item=item_codes[order].astype(np.int64, copy=False),
        ts=ts,
        etype=np.asarray(type_codes)[order].astype(np.int64, copy=False),
        type_names=names,
        value=value[order],
        session=np.cumsum(starts) - 1,
        n_users=int(user.max()) + 1,
        n_items=len(items),
        source=source,
    )
