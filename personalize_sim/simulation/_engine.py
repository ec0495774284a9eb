"""The engine: what a simulation fixes once, and the events of one block of time.

**How randomness is laid out.** One root entropy (from ``rng``, else ``config.rng``)
feeds independent streams through ``SeedSequence(entropy, spawn_key=(stream, index))``:
the population, the catalog, one stream per day for popularity drift, and one per
*block* of time for everything that happens in it (arrivals, funnels, slates, clicks,
values). Blocks are a fixed division of the window chosen from the config alone, and
output chunks are cut from the sorted event stream afterwards, so the chunk size can
never change a draw: ``iter_simulate`` with any ``chunk_events`` concatenates to exactly
``simulate``'s frame.

**Stages.** :meth:`Run.block` runs the stages of a block in a fixed order, each in the
module of its concept and each drawing from the block's stream in turn (so the order
is part of the output): arrivals, who and whether anonymous (population), session
properties (values), event types and timestamps (funnel), organic item choice
(catalog), slates and clicks (exposure), event values and property columns (values),
logins midway (population).

**Ordering.** Sessions are numbered by start time, their events laid out session by
session, and a stable sort by timestamp gives (TIMESTAMP, SESSION_ID) order. Blocks
are scheduled, and sessions that run past their block's end carried over, by
``_scheduler``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np

from ..errors import ConfigError, ConfigTypeError
from ._arrivals import DAY_US, session_starts, window_us
from ._batch import Batch
from ._catalog import CatalogDay, CatalogDays, build_catalog, organic_items
from ._config import SimulationConfig
from ._exposure import CommonStreams, expose
from ._funnel import Chain, SessionEvents, event_times, last_pick
from ._item_plan import plan_items
from ._lift import append_lift
from ._population import Sessions, build_population, draw_sessions, visible_users
from ._traffic import Plan, plan_traffic
from ._values import event_properties, event_values, session_properties

__all__ = ["Run"]

#: the random streams, as the first spawn key of SeedSequence
POPULATION, CATALOG, DRIFT, BLOCK = 0, 1, 2, 3
#: exposure's own streams under common random numbers (shared; one per arm), and lift
EXPOSURE, EXPOSURE_ARM, LIFT = 4, 5, 6
#: fitted traffic's session plan; users' and items' effects on values; the datasets beside
#: the events (items, users, actions, action interactions: ``_datasets``)
TRAFFIC, VALUES, DATASETS = 7, 8, 9
#: blocks are the largest of these (hours) that keep a block under BLOCK_EVENTS events
BLOCK_HOURS = (24, 12, 8, 6, 4, 3, 2, 1)
BLOCK_EVENTS = 250_000
_RNG_ALLOWED = "a seed (a non-negative integer), a numpy Generator or None"


def stream(entropy: int, *key: int) -> np.random.Generator:
    """The independent random stream ``key`` of a simulation."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))


def block_hours(config: SimulationConfig) -> int:
    """Hours per block: the most that keep the busiest day's blocks under BLOCK_EVENTS."""
    weekly = config.time.weekly_profile
    per_day = config.expected_events_per_day() * max(weekly) / (sum(weekly) / 7)
    return next((h for h in BLOCK_HOURS if per_day * h / 24 <= BLOCK_EVENTS), 1)


class Run:
    """One simulation: fixed population, catalog and block layout; blocks on demand."""

    def __init__(
        self,
        config: SimulationConfig,
        rng: Any,
        now: dt.datetime | None,
        *,
        entropy: int | None = None,
    ) -> None:
        self.config = config
        # ``entropy``: a root already drawn (partitions rebuild the same run elsewhere)
        self.entropy = _entropy(config.rng if rng is None else rng) if entropy is None else entropy
        self.start_us, self.end_us = window_us(config.time, now)
        self.k = config.exposure.slate_size
        self.n_props = len(config.properties)
        self.population = build_population(
            config.population,
            config.exposure,
            self.start_us,
            self.end_us,
            stream(self.entropy, POPULATION),
        )
        n_days = math.ceil(config.time.days)
        self.catalog = build_catalog(
            config.catalog, config.population, n_days, stream(self.entropy, CATALOG)
        )
        self.days = CatalogDays(
            self.catalog,
            config.catalog.drift_sigma,
            self.k,
            lambda day: stream(self.entropy, DRIFT, day),
        )
        self.chain = Chain(config.funnel)
        users = config.population.users
        self.sessions_per_us = users * config.time.sessions_per_user_per_day / DAY_US
        self.block_us = block_hours(config) * 3_600_000_000
        self.plan: Plan | None = None
        if config.traffic is not None:
            rng = stream(self.entropy, TRAFFIC)
            plan = plan_traffic(config, self.chain, self.start_us, self.end_us, rng)
            self.plan = self._with_items(plan, stream(self.entropy, TRAFFIC, 1))
        self.n_blocks = -(-(self.end_us - self.start_us) // self.block_us)
        # users' and items' own standard normals, for values that depend on them
        self.value_effects: tuple[np.ndarray, np.ndarray] | None = None
        if any(e.value_user_share or e.value_item_share for e in config.funnel.event_types):
            values_rng = stream(self.entropy, VALUES)
            self.value_effects = (
                values_rng.standard_normal(config.population.users),
                values_rng.standard_normal(self.catalog.size),
            )

    def _with_items(self, plan: Plan, rng: np.random.Generator) -> Plan:
        """The plan with every pick's organic item (a user's whole history at once: see
        ``_users``)."""
        assert self.config.traffic is not None
        session = np.repeat(np.arange(len(plan.start)), plan.lengths)
        user = plan.user[session]
        day = (plan.start[session] + plan.offset - self.start_us) // DAY_US
        picks = np.flatnonzero(self.chain.new_item[plan.etype])
        item = np.zeros(len(session), dtype=np.int32)
        item[picks] = plan_items(
            self.config.traffic,
            lambda: CatalogDays(
                self.catalog,
                self.config.catalog.drift_sigma,
                self.k,
                lambda d: stream(self.entropy, DRIFT, d),
            ),
            day,
            user,
            self.population.persona[user].astype(np.int64),
            picks,
            rng,
        )
        return dataclasses.replace(plan, item=item)

    def bounds(self, b: int) -> tuple[int, int]:
        """Block ``b``'s span [b0, b1) in epoch µs (the last block ends with the window)."""
        b0 = self.start_us + b * self.block_us
        return b0, min(b0 + self.block_us, self.end_us)

    def day_of(self, b: int) -> CatalogDay:
        """The catalog on the day block ``b`` starts (call in block order)."""
        b0, _ = self.bounds(b)
        return self.days.on(int((b0 - self.start_us) // DAY_US))

    def block(self, b: int, today: CatalogDay) -> tuple[Batch, int]:
        """Every event of the sessions that start in block ``b``, sorted by time, and
        the number of those sessions (numbered from 0: the scheduler adds the offset)."""
        cfg, pop = self.config, self.population
        rng = stream(self.entropy, BLOCK, b)
        b0, b1 = self.bounds(b)
        if self.plan is None:
            starts = session_starts(cfg.time, b0, b1, self.sessions_per_us, pop.joined_share, rng)
            sessions = draw_sessions(pop, cfg.population, starts, rng)
            session_codes = session_properties(cfg.properties, len(starts), rng)
            events = self.chain.run(len(starts), rng)
            ts = event_times(cfg.time.gap, starts, events, rng)
        else:
            starts, sessions, events, ts, planned = self._planned(b0, b1, rng)
            session_codes = session_properties(cfg.properties, len(starts), rng)
        user = sessions.user[events.session].astype(np.int32)
        persona = pop.persona[user].astype(np.int64)
        picks = np.flatnonzero(events.new_item)
        item = organic_items(today, persona, picks, rng) if self.plan is None else planned
        exposure = expose(
            cfg.exposure,
            picks=picks,
            events=events,
            user=user,
            persona=persona,
            arm=pop.arm[user],
            ts=ts,
            catalog=self.catalog,
            day=today,
            rng=rng,
            streams=self._common_streams(b),
        )
        item[exposure.clicked] = exposure.clicked_items
        # follow-on events act on their session's last pick and keep its recommendation
        last = last_pick(events.new_item)
        item = item[last]
        value = event_values(
            cfg.funnel, events.etype, item, persona, self.catalog, rng,
            user=user, effects=self.value_effects,
        )  # fmt: skip
        props = event_properties(cfg.properties, session_codes, events.session, rng)
        visible = visible_users(cfg.population, sessions.anonymous, events, rng)
        columns = {
            "ts": ts,
            "session": events.session.astype(np.int64),
            "user": user,
            "visible": visible,
            "item": item,
            "etype": events.etype,
            "value": value,
            "rec_step": exposure.rec_step[last],
            "position": exposure.position[last],
            "would_have": exposure.would_have[last],
            "props": props,
            "slate_row": exposure.slate_row,
        }
        lift_rng = stream(self.entropy, LIFT, b)
        columns = append_lift(
            cfg,
            columns,
            clicked=exposure.clicked,
            u=lift_rng.random(len(picks))[np.searchsorted(picks, exposure.clicked)],
            arm=pop.arm[user],
            persona=persona,
            catalog=self.catalog,
            rng=lift_rng,
        )
        ts = columns["ts"]
        # the window is observed up to its end: later events are cut
        kept = np.flatnonzero(ts < self.end_us)
        order = kept[np.argsort(ts[kept], kind="stable")]
        return Batch(columns, exposure.slates).take(order), len(starts)

    def _common_streams(self, b: int) -> CommonStreams | None:
        """Block ``b``'s exposure streams under common random numbers (else None)."""
        if not self.config.exposure.common_random_numbers:
            return None
        return CommonStreams(
            shared=stream(self.entropy, EXPOSURE, b),
            arm=lambda a: stream(self.entropy, EXPOSURE_ARM, b, a),
        )

    def _planned(
        self, b0: int, b1: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, Sessions, SessionEvents, np.ndarray, np.ndarray]:
        """The planned sessions starting in [b0, b1) (fitted traffic: see ``_traffic``)."""
        plan = self.plan
        assert plan is not None
        lo, hi = plan.span(b0, b1)
        starts = plan.start[lo:hi]
        anonymous = rng.random(hi - lo) < self.config.population.anonymous_share
        sessions = Sessions(start=starts, user=plan.user[lo:hi], anonymous=anonymous)
        lengths = plan.lengths[lo:hi]
        e0, e1 = plan.first_event[lo], plan.first_event[hi]
        session = np.repeat(np.arange(hi - lo), lengths)
        offsets = plan.first_event[lo:hi] - e0
        etype = plan.etype[e0:e1]
        events = SessionEvents(
            lengths=lengths,
            session=session,
            step=np.arange(e1 - e0) - offsets[session],
            etype=etype,
            new_item=self.chain.new_item[etype],
        )
        assert plan.item is not None
        ts = starts[session] + plan.offset[e0:e1]
        return starts, sessions, events, ts, plan.item[e0:e1].copy()


def _entropy(seed: Any) -> int:
    """The root entropy of a simulation from a seed or a numpy Generator."""
    if isinstance(seed, bool | float | str):
        raise ConfigTypeError("rng", seed, _RNG_ALLOWED)
    try:
        generator = np.random.default_rng(seed)
    except TypeError:
        raise ConfigTypeError("rng", seed, _RNG_ALLOWED) from None
    except ValueError:
        raise ConfigError("rng", seed, _RNG_ALLOWED) from None
    return int(generator.integers(0, 2**63))
