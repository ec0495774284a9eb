"""The funnel: a Markov chain over event types, run for many sessions at once.

Each step draws one uniform per still-active session and moves every session
through the cumulative transition matrix together, so the Python loop runs once per
*step* (at most ``max_events``), never once per event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._catalog import U_MAX
from ._config import FunnelConfig

__all__ = ["Chain", "SessionEvents"]


@dataclass(frozen=True, eq=False)
class SessionEvents:
    """Event types of a batch of sessions, laid out session by session."""

    lengths: np.ndarray  # events per session
    session: np.ndarray  # session index of each event
    step: np.ndarray  # 0-based position of each event in its session
    etype: np.ndarray  # int8 event type index of each event


class Chain:
    """A funnel's cumulative start and transition tables (``exit`` is the last column)."""

    def __init__(self, config: FunnelConfig) -> None:
        start, matrix, exits = config.matrix()
        self.start_cdf = np.cumsum(start)
        self.start_cdf[-1] = 1.0
        table = np.column_stack([np.asarray(matrix), np.asarray(exits)])
        self.cdf = np.cumsum(table, axis=1)
        self.cdf[:, -1] = 1.0
        self.exit = table.shape[1] - 1
        self.width = table.shape[1]
        # row s shifted to [s, s+1]: one searchsorted moves every session at once
        self.stacked = (self.cdf + np.arange(len(self.cdf))[:, None]).ravel()
        self.max_events = config.max_events

    def run(self, n_sessions: int, rng: np.random.Generator) -> SessionEvents:
        """Walk ``n_sessions`` sessions until each exits (or reaches ``max_events``)."""
        active = np.arange(n_sessions)
        state = np.searchsorted(self.start_cdf, rng.random(n_sessions), side="right")
        state = np.minimum(state, self.exit - 1)
        steps_session: list[np.ndarray] = []
        steps_type: list[np.ndarray] = []
        for _ in range(self.max_events):
            if len(active) == 0:
                break
            steps_session.append(active)
            steps_type.append(state)
            u = np.minimum(rng.random(len(active)), U_MAX)  # state + u stays in its row
            nxt = np.searchsorted(self.stacked, state + u, side="right") - state * self.width
            keep = nxt != self.exit
            active, state = active[keep], nxt[keep]
        lengths = np.zeros(n_sessions, dtype=np.int64)
        for sessions in steps_session:
            lengths[sessions] += 1
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        total = int(lengths.sum())
        session = np.repeat(np.arange(n_sessions), lengths)
        step = np.arange(total) - offsets[session]
        etype = np.empty(total, dtype=np.int8)
        for t, (sessions, types) in enumerate(zip(steps_session, steps_type, strict=True)):
            etype[offsets[sessions] + t] = types
        return SessionEvents(lengths=lengths, session=session, step=step, etype=etype)
