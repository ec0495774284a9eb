"""The funnel: a Markov chain over event types, run for many sessions at once.

:class:`FunnelConfig` declares the event types and the chain. Each step draws one
uniform per still-active session and moves every session through the cumulative
transition matrix together, so the Python loop runs once per *step* (at most
``max_events``), never once per event.

>>> [round(v, 3) for v in FunnelConfig().expected_visits()]
[2.793, 0.279, 0.112]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check, count, instance, number, one_of
from ..errors import ConfigError
from ._catalog import U_MAX
from ._config_checks import distribution, named_items, valid_name
from ._quantiles import check_table, draw
from ._values import VALUE_KINDS

if TYPE_CHECKING:
    from ._arrivals import GapConfig

__all__ = [
    "EXIT",
    "Chain",
    "EventTypeConfig",
    "FunnelConfig",
    "SessionEvents",
    "event_times",
    "last_pick",
]

#: the pseudo event type that ends a session in ``FunnelConfig.transitions``
EXIT = "exit"


@dataclass(frozen=True, kw_only=True)
class EventTypeConfig:
    """One event type of the funnel.

    ``new_item`` types pick an item (organically or from a slate); the others act on the
    item of the session's previous ``new_item`` event (add it to the cart, buy it, rate it).
    ``value`` says what ``EVENT_VALUE`` holds: ``none`` (NaN), ``price``, ``rating`` (1–5)
    or ``watch_time`` (seconds).
    """

    name: str
    new_item: bool = False
    value: str = "none"
    #: with ``value: empirical``: percentiles of EVENT_VALUE (see ``fit``)
    value_quantiles: tuple[float, ...] = ()
    #: with ``value: empirical``: draw only the listed values (counts, star ratings)
    value_discrete: bool = False
    #: with ``value: empirical``: shares of the values' variance (on a normal scale) that
    #: are the user's and the item's own (a generous rater, a good film; see ``fit``)
    value_user_share: float = 0.0
    value_item_share: float = 0.0

    def __post_init__(self) -> None:
        valid_name(self.name, "name")
        check(self.name != EXIT, "name", self.name, f"any name but {EXIT!r} (it ends a session)")
        instance(self.new_item, "new_item", bool, "true or false")
        one_of(self.value, "value", VALUE_KINDS)
        instance(self.value_discrete, "value_discrete", bool, "true or false")
        user_share = number(self.value_user_share, "value_user_share", low=0.0, high=1.0)
        item_share = number(self.value_item_share, "value_item_share", low=0.0, high=1.0)
        check(
            user_share + item_share <= 1.0, "value_item_share", item_share,
            f"at most 1 - value_user_share ({1 - user_share:g})",
        )  # fmt: skip
        if self.value == "empirical":
            table = check_table(self.value_quantiles, "value_quantiles", low=-math.inf)
            object.__setattr__(self, "value_quantiles", table)
        else:
            check(
                not self.value_quantiles,
                "value_quantiles",
                self.value_quantiles,
                "empty unless value is empirical",
            )
            object.__setattr__(self, "value_quantiles", ())


def _default_event_types() -> tuple[EventTypeConfig, ...]:
    return (
        EventTypeConfig(name="View", new_item=True),
        EventTypeConfig(name="AddToCart"),
        EventTypeConfig(name="Purchase", value="price"),
    )


def _default_transitions() -> dict[str, dict[str, float]]:
    return {
        "View": {"View": 0.6, "AddToCart": 0.1, EXIT: 0.3},
        "AddToCart": {"View": 0.3, "Purchase": 0.4, EXIT: 0.3},
        "Purchase": {"View": 0.3, EXIT: 0.7},
    }


@dataclass(frozen=True, kw_only=True)
class FunnelConfig:
    """A Markov chain over event types; ``exit`` ends the session."""

    event_types: tuple[EventTypeConfig, ...] = field(default_factory=_default_event_types)
    #: first event type of a session -> probability (only ``new_item`` types)
    start: Mapping[str, float] = field(default_factory=lambda: {"View": 1.0})
    #: event type -> {next event type or "exit" -> probability}
    transitions: Mapping[str, Mapping[str, float]] = field(default_factory=_default_transitions)
    #: sessions are cut after this many events
    max_events: int = 200

    def __post_init__(self) -> None:
        named_items(self.event_types, "event_types", "event type")
        self._check_start()
        self._check_transitions()
        count(self.max_events, "max_events", low=1)
        object.__setattr__(self, "start", dict(self.start))
        object.__setattr__(self, "transitions", {k: dict(v) for k, v in self.transitions.items()})
        # every event type must be able to reach the exit, or sessions only end at max_events
        try:
            self.expected_visits()
        except ArithmeticError:
            raise ConfigError(
                "transitions", dict(self.transitions), f"{EXIT!r} reachable from every event type"
            ) from None

    def _check_start(self) -> None:
        by_name = {e.name: e for e in self.event_types}
        known = ", ".join(by_name)
        check(isinstance(self.start, Mapping), "start", self.start, "a mapping")
        for event_type in self.start:
            where = f"start.{event_type}"
            check(event_type in by_name, where, event_type, f"one of the event types: {known}")
            check(
                by_name[event_type].new_item,
                where,
                event_type,
                "a new_item event type (a session's first event must pick an item)",
            )
        distribution(self.start.values(), "start")

    def _check_transitions(self) -> None:
        names = self.names
        known = ", ".join(names)
        check(isinstance(self.transitions, Mapping), "transitions", self.transitions, "a mapping")
        for event_type in self.transitions:
            where = f"transitions.{event_type}"
            check(event_type in names, where, event_type, f"one of the event types: {known}")
        for event_type in names:
            row = self.transitions.get(event_type)
            where = f"transitions.{event_type}"
            allowed = f"a mapping from next event type (or {EXIT!r}) to probability"
            check(isinstance(row, Mapping), where, row, allowed)
            assert isinstance(row, Mapping)
            for target in row:
                check(
                    target in names or target == EXIT,
                    f"{where}.{target}",
                    target,
                    f"one of the event types or {EXIT!r}: {known}, {EXIT}",
                )
            distribution(row.values(), where)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.event_types)

    def matrix(self) -> tuple[list[float], list[list[float]], list[float]]:
        """(start vector, transition matrix between event types, exit vector), in type order."""
        names = self.names
        start = [float(self.start.get(n, 0.0)) for n in names]
        matrix = [[float(self.transitions[a].get(b, 0.0)) for b in names] for a in names]
        exits = [float(self.transitions[a].get(EXIT, 0.0)) for a in names]
        return start, matrix, exits

    def expected_visits(self) -> list[float]:
        """Expected number of events of each type per session (ignoring ``max_events``)."""
        start, matrix, _ = self.matrix()
        q = np.asarray(matrix)
        system = np.eye(len(start)) - q.T
        if abs(np.linalg.det(system)) < 1e-12:
            raise ArithmeticError("the exit is unreachable")
        visits = np.linalg.solve(system, np.asarray(start))
        if not np.all(np.isfinite(visits)) or np.any(visits < -1e-9):
            raise ArithmeticError("the exit is unreachable")
        return [float(v) for v in visits]


@dataclass(frozen=True, eq=False)
class SessionEvents:
    """Event types of a batch of sessions, laid out session by session."""

    lengths: np.ndarray  # events per session
    session: np.ndarray  # session index of each event
    step: np.ndarray  # 0-based position of each event in its session
    etype: np.ndarray  # int8 event type index of each event
    new_item: np.ndarray  # bool: the event picks an item (its type is ``new_item``)


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
        self.new_item = np.array([e.new_item for e in config.event_types])
        # without the exit (sessions of a given length): rows renormalised, a row that
        # only exits starts over as a session would
        inner = np.asarray(matrix)
        self.matrix = inner
        self.exits = np.asarray(exits)
        self.start_probs = np.asarray(start)
        totals = inner.sum(axis=1, keepdims=True)
        inner = np.where(totals > 0, inner / np.where(totals > 0, totals, 1), np.asarray(start))
        self.cont_rows = inner
        cont = np.cumsum(inner, axis=1)
        cont[:, -1] = 1.0
        self.cont_width = cont.shape[1]
        self.cont_stacked = (cont + np.arange(len(cont))[:, None]).ravel()

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
        return SessionEvents(
            lengths=lengths,
            session=session,
            step=step,
            etype=etype,
            new_item=self.new_item[etype],
        )

    def run_lengths(self, lengths: np.ndarray, rng: np.random.Generator) -> SessionEvents:
        """Walk sessions of the given lengths: the chain conditioned on exiting after exactly
        that many events (so the last event's type is as likely as in sessions of that
        length, and a type that mostly ends sessions does so here too)."""
        n_sessions = len(lengths)
        total = int(lengths.sum())
        session = np.repeat(np.arange(n_sessions), lengths)
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        step = np.arange(total) - offsets[session]
        etype = np.empty(total, dtype=np.int8)
        longest = int(lengths.max(initial=1))
        start_cdf, stacked = self._conditioned(longest)
        width = self.cont_width
        first = start_cdf[lengths - 1]  # (sessions, types): the start given the length
        u = np.minimum(rng.random(n_sessions), U_MAX)
        state = np.minimum((first < u[:, None]).sum(axis=1), width - 1)
        active = np.arange(n_sessions)
        for t in range(longest):
            etype[offsets[active] + t] = state
            keep = lengths[active] > t + 1
            active, state = active[keep], state[keep]
            # row (events left after the next one, state): its next-state CDF shifted
            row = (lengths[active] - t - 2) * width + state
            u = np.minimum(rng.random(len(active)), U_MAX)
            state = np.searchsorted(stacked, row + u, side="right") - row * width
        return SessionEvents(
            lengths=lengths.astype(np.int64),
            session=session,
            step=step,
            etype=etype,
            new_item=self.new_item[etype],
        )

    def _conditioned(self, longest: int) -> tuple[np.ndarray, np.ndarray]:
        """CDFs of the start given the length (rows: length - 1) and of the next state given
        the events left after it (rows: left * types + state, stacked as in ``run``).

        beta[r, s] is the chance (scaled per r) that a walk from s exits after exactly r more
        events; the next state s' after s, with r events left after s', is drawn in
        proportion to Q[s, s'] beta[r, s'] (the chain conditioned on its length). Lengths
        the chain cannot make fall back on the walk without the exit."""
        q = self.matrix
        types = q.shape[0]
        beta = np.empty((longest, types))
        beta[0] = self.exits
        for r in range(1, longest):
            nxt = q @ beta[r - 1]
            beta[r] = nxt / max(nxt.max(), 1e-300)  # only ratios within a row matter
        start = self.start_probs[None, :] * beta
        start = np.where(start.sum(axis=1, keepdims=True) > 0, start, self.start_probs[None, :])
        start_cdf = np.cumsum(start / start.sum(axis=1, keepdims=True), axis=1)
        start_cdf[:, -1] = 1.0
        rows = q[None, :, :] * beta[:, None, :]  # (left, from, to)
        totals = rows.sum(axis=2, keepdims=True)
        fallback = self.cont_rows[None, :, :]
        rows = np.where(totals > 0, rows / np.where(totals > 0, totals, 1.0), fallback)
        cdf = np.cumsum(rows, axis=2).reshape(longest * types, types)
        cdf[:, -1] = 1.0
        return start_cdf, (cdf + np.arange(len(cdf))[:, None]).ravel()


def event_times(
    gap: GapConfig, starts: np.ndarray, events: SessionEvents, rng: np.random.Generator
) -> np.ndarray:
    """Epoch µs of every event: its session's start plus the gaps drawn since."""
    first = events.step == 0
    gaps = _gaps_us(gap, len(events.etype), rng)
    gaps[first] = 0
    elapsed = np.cumsum(gaps)
    offsets = np.flatnonzero(first)
    return starts[events.session] + elapsed - elapsed[offsets][events.session]


def _gaps_us(gap: GapConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    if gap.distribution == "lognormal":
        seconds = gap.median * np.exp(gap.sigma * rng.standard_normal(n))
    elif gap.distribution == "exponential":
        seconds = gap.mean * rng.standard_exponential(n)
    elif gap.distribution == "empirical":
        seconds = draw(gap.quantiles, rng.random(n), discrete=False)
    else:
        seconds = gap.low + (gap.high - gap.low) * rng.random(n)
    # at least 1 µs, so events of a session never share a timestamp
    return np.maximum(np.rint(seconds * 1e6), 1).astype(np.int64)


def last_pick(new_item: np.ndarray) -> np.ndarray:
    """For each event, the index of the latest item-picking event up to it.

    Sessions are laid out one after another and each starts by picking an item, so
    this is the session's own last pick: what follow-on events (add to cart, buy…)
    act on.
    """
    return np.maximum.accumulate(np.where(new_item, np.arange(len(new_item)), 0))
