"""The engine: blocks of time in, sorted events out.

**How randomness is laid out.** One root entropy (from ``rng`` or ``config.seed``)
feeds independent streams through ``SeedSequence(entropy, spawn_key=(stream, index))``:
the population, the catalog, one stream per day for popularity drift, and one per
*block* of time for everything that happens in it (arrivals, funnels, slates, clicks,
values). Blocks are a fixed division of the window chosen from the config alone, and
output chunks are cut from the sorted event stream afterwards, so the chunk size can
never change a draw: ``iter_simulate`` with any ``chunk_events`` concatenates to exactly
``simulate``'s frame.

**Ordering.** Sessions are numbered by start time, their events laid out session by
session, and a stable sort by timestamp gives (TIMESTAMP, SESSION_ID) order. A session
may run past its block's end; those events wait in a carry buffer until the next block
has been generated, since no later block can produce an earlier event. Sessions still
running when the window ends are cut there: nothing is dated after the window.

**Threads.** Up to ``_MAX_WORKERS`` blocks are generated ahead in threads while the
caller's thread assembles frames; blocks are consumed in order, so the output never
depends on the threads (a test pins this). No thread outlives the call or iteration.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._gc import paused_gc
from ._arrivals import DAY_US, session_starts
from ._catalog import CatalogDay, build_catalog, catalog_day
from ._config import SimulationConfig
from ._exposure import click_probabilities, draw_clicks
from ._funnel import Chain
from ._population import build_population
from ._recommenders import make_slates

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["iter_simulate", "simulate", "write_parquet"]

_POPULATION, _CATALOG, _DRIFT, _BLOCK = 0, 1, 2, 3
#: blocks are the largest of these (hours) that keep a block under _BLOCK_EVENTS events
_BLOCK_HOURS = (24, 12, 8, 6, 4, 3, 2, 1)
_BLOCK_EVENTS = 250_000
DEFAULT_CHUNK_EVENTS = 1_000_000
#: blocks generated ahead in threads (the output never depends on it)
_MAX_WORKERS = 2

#: digits of a session number in SESSION_ID (S0000000012): fixed width keeps string order
_SESSION_DIGITS = 10
#: ground-truth columns (lower case: never sent)
GROUND_TRUTH = (
    "persona",
    "arm",
    "position",
    "organic",
    "would_have_without_rec",
    "true_user_id",
    "new_user",
)


def simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Simulate a site's traffic as an events frame (DESIGN.md) plus ground truth.

    ``config`` is a :class:`SimulationConfig`, a preset name, or None for the defaults;
    ``overrides`` go through :meth:`SimulationConfig.replace` (``users=``, ``days=`` …).
    ``rng`` (a seed or Generator) wins over ``config.seed``. With no ``time.start`` the
    window ends at ``now`` (default: the current time). ``progress(blocks_done, total)``
    is called as blocks of time are generated.

    >>> frame = simulate("retail", users=300, days=1, rng=1)  # doctest: +SKIP
    """
    run = _Run(_resolve(config, overrides), rng, now)
    # columns are built block by block while threads generate the next blocks, then
    # joined once (Arrow chunks and numpy arrays: no DataFrame per block, no pd.concat)
    parts = [run.frame_parts(batch) for batch in run.batches(progress)]
    return run.assemble(parts, 0)


def iter_simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    now: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    arrow: bool = False,
    **overrides: Any,
) -> Iterator[pd.DataFrame]:
    """Yield the frame :func:`simulate` would return, in chunks of ``chunk_events`` rows.

    Memory stays bounded by one block of time plus one chunk; the concatenated chunks
    equal ``simulate``'s frame whatever the chunk size (indices continue across chunks).
    ``progress(blocks_done, blocks_total)`` is called after each block. With
    ``arrow=True`` the chunks are ``pyarrow.Table`` objects holding the same columns
    (IMPRESSION as a list<string> column): no Python objects are built, which makes
    writing Parquet several times faster.
    """
    if not isinstance(chunk_events, int) or isinstance(chunk_events, bool) or chunk_events < 1:
        raise ValueError(f"chunk_events must be a positive integer, got {chunk_events!r}")
    run = _Run(_resolve(config, overrides), rng, now)

    def build(batch: _Batch, offset: int) -> Any:
        return run.table(batch) if arrow else run.frame(batch, offset)

    return _chunks(run, chunk_events, build, progress)


def _chunks(
    run: _Run,
    chunk_events: int,
    build: Callable[[_Batch, int], Any],
    progress: Callable[[int, int], None] | None,
) -> Iterator[Any]:
    """Cut the sorted event stream into chunks of ``chunk_events`` rows and build each."""
    pending: list[_Batch] = []
    held = 0
    offset = 0
    for batch in run.batches(progress):
        pending.append(batch)
        held += len(batch)
        if held < chunk_events:
            continue
        merged = _Batch.concat(pending, run.n_props, run.k)
        cut = 0
        while len(merged) - cut >= chunk_events:
            yield build(merged.take(slice(cut, cut + chunk_events)), offset)
            offset += chunk_events
            cut += chunk_events
        rest = merged.take(np.arange(cut, len(merged)))  # a copy: frees the merged arrays
        pending, held = [rest], len(rest)
    if held:
        yield build(_Batch.concat(pending, run.n_props, run.k), offset)


def write_parquet(frames: Any, path: str | Path) -> list[Path]:
    """Write a frame (or Arrow table) to one Parquet file, or chunks to a directory.

    ``frames`` is a DataFrame or ``pyarrow.Table`` (one file at ``path``), or an iterable
    of them such as :func:`iter_simulate` yields (``path/part-00000.parquet`` …).
    Returns the files written; ``pd.read_parquet(directory)`` reads the parts in order.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    def write(part: Any, file: Path) -> None:
        if isinstance(part, pa.Table):
            pq.write_table(part, file)
        else:
            part.to_parquet(file, index=False)

    target = Path(path)
    if isinstance(frames, pd.DataFrame | pa.Table):
        target.parent.mkdir(parents=True, exist_ok=True)
        write(frames, target)
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for i, frame in enumerate(frames):
        part = target / f"part-{i:05d}.parquet"
        write(frame, part)
        written.append(part)
    return written


def expected_events_per_day(config: SimulationConfig) -> float:
    """Mean events per day with every user present (ignores max_events and the window end)."""
    per_session = math.fsum(config.funnel.expected_visits())
    return config.population.users * config.time.sessions_per_user_per_day * per_session


# ------------------------------------------------------------------------------------------


def _resolve(config: SimulationConfig | str | None, overrides: dict[str, Any]) -> SimulationConfig:
    if config is None:
        config = SimulationConfig()
    elif isinstance(config, str):
        config = SimulationConfig.preset(config)
    elif not isinstance(config, SimulationConfig):
        raise TypeError(f"config must be a SimulationConfig, a preset name or None, got {config!r}")
    return config.replace(**overrides) if overrides else config


def _stream(entropy: int, *key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))


class _Batch:
    """Per-event arrays, plus the slates of the events that carry an impression."""

    FIELDS = (
        "ts",  # int64 epoch µs
        "session",  # int64 global session number
        "user",  # int32 true user number
        "visible",  # bool: USER_ID is sent
        "item",  # int32 item number
        "etype",  # int8 event type
        "value",  # float64 EVENT_VALUE (NaN: none)
        "rec_step",  # int16 step of the slate click this event follows (-1: organic)
        "position",  # int8 slate position of the item (-1: organic)
        "would_have",  # bool: would have happened without the recommendation
        "props",  # int8 (n, n_props) codes of the property columns
        "slate_row",  # int32 row in ``slates`` (-1: no impression)
    )

    def __init__(self, cols: dict[str, np.ndarray], slates: np.ndarray) -> None:
        self.cols = cols
        self.slates = slates

    def __len__(self) -> int:
        return len(self.cols["ts"])

    def take(self, index: np.ndarray | slice) -> _Batch:
        cols = {name: values[index] for name, values in self.cols.items()}
        row = cols["slate_row"]
        shown = row >= 0
        slates = self.slates[row[shown]]
        renumbered = np.full(len(row), -1, dtype=np.int32)
        renumbered[shown] = np.arange(int(shown.sum()))
        cols["slate_row"] = renumbered
        return _Batch(cols, slates)

    @staticmethod
    def concat(batches: list[_Batch], n_props: int, k: int) -> _Batch:
        if not batches:
            return _Batch.empty(n_props, k)
        if len(batches) == 1:
            return batches[0]
        cols = {}
        for name in _Batch.FIELDS:
            cols[name] = np.concatenate([b.cols[name] for b in batches])
        base = np.cumsum([0] + [len(b.slates) for b in batches[:-1]])
        cols["slate_row"] = np.concatenate(
            [
                np.where(b.cols["slate_row"] >= 0, b.cols["slate_row"] + o, -1).astype(np.int32)
                for b, o in zip(batches, base, strict=True)
            ]
        )
        return _Batch(cols, np.concatenate([b.slates for b in batches]))

    @staticmethod
    def merge(first: _Batch, second: _Batch) -> _Batch:
        """Merge two time-sorted batches; at equal times ``first``'s events come first.

        ``first`` holds the carried-over events of earlier (lower-numbered) sessions, so
        this keeps the (TIMESTAMP, SESSION_ID) order with one scatter per column.
        """
        n = len(first) + len(second)
        at = np.searchsorted(second.cols["ts"], first.cols["ts"], side="left")
        at += np.arange(len(first))
        rest = np.ones(n, dtype=bool)
        rest[at] = False
        cols = {}
        for name, values in first.cols.items():
            out = np.empty((n, *values.shape[1:]), dtype=values.dtype)
            out[at] = values
            out[rest] = second.cols[name]
            cols[name] = out
        row = cols["slate_row"]
        moved = rest & (row >= 0)
        row[moved] += len(first.slates)  # second's slates follow first's
        return _Batch(cols, np.concatenate([first.slates, second.slates]))

    @staticmethod
    def empty(n_props: int, k: int) -> _Batch:
        dtypes = {
            "ts": np.int64, "session": np.int64, "user": np.int32, "visible": bool,
            "item": np.int32, "etype": np.int8, "value": np.float64, "rec_step": np.int16,
            "position": np.int8, "would_have": bool, "slate_row": np.int32,
        }  # fmt: skip
        cols = {name: np.empty(0, dtype=dtype) for name, dtype in dtypes.items()}
        cols["props"] = np.empty((0, n_props), dtype=np.int8)
        return _Batch(cols, np.empty((0, k), dtype=np.int32))


class _Run:
    """One simulation: fixed population, catalog and block layout; blocks on demand."""

    def __init__(
        self,
        config: SimulationConfig,
        rng: np.random.Generator | int | None,
        now: dt.datetime | None,
    ) -> None:
        self.config = config
        seed = config.seed if rng is None else rng
        self.entropy = int(np.random.default_rng(seed).integers(0, 2**63))
        time = config.time
        if time.start is not None:
            start = time.start
        else:
            end = now if now is not None else dt.datetime.now(dt.timezone.utc)
            if end.tzinfo is None:
                end = end.replace(tzinfo=dt.timezone.utc)
            start = end - dt.timedelta(days=time.days)
        self.start_us = _epoch_us(start)
        self.end_us = self.start_us + round(time.days * DAY_US)
        self.n_days = math.ceil(time.days)
        self.k = config.exposure.slate_size
        self.n_props = len(config.properties)
        self.population = build_population(
            config.population,
            config.exposure,
            self.start_us,
            self.end_us,
            _stream(self.entropy, _POPULATION),
        )
        self.catalog = build_catalog(
            config.catalog, config.population, self.n_days, _stream(self.entropy, _CATALOG)
        )
        self.chain = Chain(config.funnel)
        per_day = (
            expected_events_per_day(config)
            * max(time.weekly_profile)
            / (sum(time.weekly_profile) / 7)
        )
        hours = next((h for h in _BLOCK_HOURS if per_day * h / 24 <= _BLOCK_EVENTS), 1)
        self.block_us = hours * 3_600_000_000
        self.n_blocks = -(-(self.end_us - self.start_us) // self.block_us)
        self._drift: np.ndarray | None = None
        self._day: CatalogDay | None = None
        self._next_session = 0
        self._strings: dict[str, Any] = {}
        self.workers = max(1, min(_MAX_WORKERS, os.cpu_count() or 1))

    # -- catalog state ---------------------------------------------------------------------

    def day(self, d: int) -> CatalogDay:
        """Today's catalog; days are reached in order, drift accumulating day by day."""
        if self._day is not None and self._day.day == d:
            return self._day
        sigma = self.config.catalog.drift_sigma
        first = 0 if self._day is None else self._day.day + 1
        for day in range(first, d + 1):
            if sigma > 0 and day > 0:
                step = sigma * _stream(self.entropy, _DRIFT, day).standard_normal(self.catalog.size)
                self._drift = step if self._drift is None else self._drift + step
        self._day = catalog_day(self.catalog, d, self._drift, self.k)
        return self._day

    # -- blocks ----------------------------------------------------------------------------

    def batches(self, progress: Callable[[int, int], None] | None = None) -> Iterator[_Batch]:
        """Final, sorted events block by block (a session's spill-over waits for the next).

        Blocks are independent (each has its own random stream and gets its catalog day
        from here), so a few are generated ahead in threads: numpy releases the GIL in
        its heavy loops. Results are consumed in block order, so threads cannot change
        the output.
        """
        from concurrent.futures import ThreadPoolExecutor

        carry: _Batch | None = None
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            ahead: collections.deque[Any] = collections.deque()
            submitted = 0
            for b in range(self.n_blocks):
                while submitted < self.n_blocks and len(ahead) < self.workers:
                    b0 = self.start_us + submitted * self.block_us
                    b1 = min(b0 + self.block_us, self.end_us)
                    today = self.day(int((b0 - self.start_us) // DAY_US))
                    ahead.append(pool.submit(self.block, submitted, b0, b1, today))
                    submitted += 1
                block, n_sessions = ahead.popleft().result()
                block.cols["session"] += self._next_session
                self._next_session += n_sessions
                end = min(self.start_us + (b + 1) * self.block_us, self.end_us)
                merged = block if carry is None else _Batch.merge(carry, block)
                last = b == self.n_blocks - 1
                cut = len(merged) if last else int(np.searchsorted(merged.cols["ts"], end))
                if cut:
                    yield merged.take(slice(0, cut))
                # a copy (not a view), so the merged block can be freed
                carry = merged.take(np.arange(cut, len(merged))) if cut < len(merged) else None
                if progress is not None:
                    progress(b + 1, self.n_blocks)

    def block(self, b: int, b0: int, b1: int, today: CatalogDay) -> tuple[_Batch, int]:
        """Every event of the sessions that start in [b0, b1), sorted by time.

        Session numbers are local to the block (the caller adds the running offset).
        """
        cfg = self.config
        rng = _stream(self.entropy, _BLOCK, b)
        pop, cat = self.population, self.catalog

        # sessions: when, who, anonymous or not, session-wide properties
        rate = cfg.population.users * cfg.time.sessions_per_user_per_day / DAY_US
        total = pop.cum_activity[-1]

        def joined_share(t: np.ndarray) -> np.ndarray:
            n = pop.joined_by(t)
            return np.where(n > 0, pop.cum_activity[np.maximum(n, 1) - 1] / total, 0.0)

        starts = session_starts(cfg.time, b0, b1, rate, joined_share, rng)
        ns = len(starts)
        users = pop.pick(starts, rng.random(ns))
        anonymous = rng.random(ns) < cfg.population.anonymous_share
        session_props = [
            _categorical(p.probabilities, rng.random(ns)) if p.scope == "session" else None
            for p in cfg.properties
        ]

        # funnels and timestamps
        ev = self.chain.run(ns, rng)
        n = len(ev.etype)
        first = ev.step == 0
        gaps = _gaps_us(cfg.time.gap, n, rng)
        gaps[first] = 0
        elapsed = np.cumsum(gaps)
        offsets = np.flatnonzero(first)
        ts = starts[ev.session] + elapsed - elapsed[offsets][ev.session]
        user = users[ev.session].astype(np.int32)
        persona = pop.persona[user].astype(np.int64)
        arm = pop.arm[user]

        # items: new-item events face a slate or browse; the others act on the last item
        new_item = np.array([e.new_item for e in cfg.funnel.event_types])[ev.etype]
        picks = np.flatnonzero(new_item)
        organic_items = today.organic(persona[picks], rng.random(len(picks)))
        arms = cfg.exposure.arms
        recommends = np.array([a.recommender != "none" for a in arms])
        shown = recommends[arm[picks]] & (rng.random(len(picks)) < cfg.exposure.slate_probability)
        at = picks[shown]
        # a session keeps the slate it was first shown (as a page keeps its row of picks)
        at_session = ev.session[at]
        opens = np.ones(len(at), dtype=bool)
        opens[1:] = at_session[1:] != at_session[:-1]
        heads = at[opens]
        per_session = np.empty((len(heads), self.k), dtype=np.int32)
        for a, spec in enumerate(arms):
            rows = np.flatnonzero(arm[heads] == a)
            if len(rows) and spec.recommender != "none":
                per_session[rows] = make_slates(
                    spec.recommender,
                    quality=spec.quality,
                    k=self.k,
                    users=user[heads[rows]],
                    personas=persona[heads[rows]],
                    timestamps=ts[heads[rows]],
                    catalog=cat,
                    day=today,
                    rng=rng,
                )
        slate_of = np.cumsum(opens) - 1
        slates = per_session[slate_of]
        # click probabilities depend on the user and the slate only: once per session
        exam = np.asarray(cfg.exposure.examination_curve())
        relevance_of = cat.relevance[persona[heads]]  # (sessions, categories)
        attract = cfg.exposure.click_scale * np.take_along_axis(
            relevance_of, cat.category[per_session].astype(np.int64), axis=1
        )
        probs = click_probabilities(cfg.exposure.click_model, exam, attract)
        clicks = draw_clicks(probs, rng.random(len(at)), rows=slate_of)
        clicked = clicks >= 0
        item = np.zeros(n, dtype=np.int32)
        item[picks] = organic_items
        item[at[clicked]] = slates[clicked, clicks[clicked]]
        position = np.full(n, -1, dtype=np.int8)
        position[at[clicked]] = clicks[clicked]
        rec_step = np.full(n, -1, dtype=np.int16)
        rec_step[at[clicked]] = ev.step[at[clicked]]
        would_have = np.ones(n, dtype=bool)
        hit = at[clicked]
        p_organic = today.pdf[persona[hit], item[hit]]
        horizon = cfg.exposure.organic_horizon
        would_have[hit] = rng.random(len(hit)) < -np.expm1(-horizon * p_organic)
        # sessions start with a new-item event, so the running max is per session
        source = np.maximum.accumulate(np.where(new_item, np.arange(n), 0))
        item = item[source]
        position = position[source]
        rec_step = rec_step[source]
        would_have = would_have[source]
        slate_row = np.full(n, -1, dtype=np.int32)
        slate_row[at] = np.arange(len(at))

        # values and event properties
        value = np.full(n, np.nan)
        kinds = np.array([e.value for e in cfg.funnel.event_types])[ev.etype]
        relevance = cat.relevance[persona, cat.category[item]]
        for kind in ("price", "rating", "watch_time"):
            idx = np.flatnonzero(kinds == kind)
            if len(idx) == 0:
                continue
            if kind == "price":
                value[idx] = cat.price[item[idx]]
            elif kind == "rating":
                raw = 1 + 4 * relevance[idx] + 0.8 * rng.standard_normal(len(idx))
                value[idx] = np.clip(np.rint(raw), 1, 5)
            else:
                share = rng.beta(1 + 2 * relevance[idx], 1.5)
                value[idx] = np.rint(cat.duration[item[idx]] * share)
        props = np.empty((n, self.n_props), dtype=np.int8)
        for j, prop in enumerate(cfg.properties):
            codes = session_props[j]
            props[:, j] = (
                codes[ev.session]
                if codes is not None
                else _categorical(prop.probabilities, rng.random(n))
            )

        # anonymous sessions; some log in midway (from a uniform step after the first)
        lengths = ev.lengths
        logs_in = (rng.random(ns) < cfg.population.login_share) & (lengths >= 2)
        login_step = 1 + np.floor(rng.random(ns) * np.maximum(lengths - 1, 1)).astype(np.int64)
        login_step = np.where(anonymous & logs_in, login_step, np.where(anonymous, lengths, 0))
        visible = ev.step >= login_step[ev.session]

        session = ev.session.astype(np.int64)
        keep = ts < self.end_us  # the window is observed up to its end: later events are cut
        batch = _Batch(
            {
                "ts": ts,
                "session": session,
                "user": user,
                "visible": visible,
                "item": item,
                "etype": ev.etype,
                "value": value,
                "rec_step": rec_step,
                "position": position,
                "would_have": would_have,
                "props": props,
                "slate_row": slate_row,
            },
            slates,
        )
        index = np.flatnonzero(keep)
        order = index[np.argsort(ts[index], kind="stable")]
        return batch.take(order), ns

    # -- the frame ---------------------------------------------------------------------------

    def _pool(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._strings:
            self._strings[name] = make()
        return self._strings[name]

    def columns(self, batch: _Batch, *, impression: bool = True) -> dict[str, Any]:
        """Every column of a batch as an Arrow array (IMPRESSION as a list array).

        With ``impression=False`` the IMPRESSION entry is None (the frame builds lists).
        """
        import pyarrow as pa

        cfg = self.config
        c = batch.cols
        pop = self.population
        users = self._pool("users", lambda: _numbered("u", pop.size))
        items = self._pool("items", lambda: _numbered("i", self.catalog.size))
        # large_string throughout: what pandas' string dtype holds, so it never casts
        types = pa.array(list(cfg.funnel.names), type=pa.large_string())
        sources = pa.array([a.attribution_source for a in cfg.exposure.arms], pa.large_string())

        session_bytes = _session_bytes(c["session"])
        sessions = _fixed_width([session_bytes])
        recommended = c["rec_step"] >= 0
        rec_rows = np.flatnonzero(recommended)
        # rec-S0000000012-003: the session and the step of the click, fixed width
        step_width = len(str(max(self.config.funnel.max_events - 1, 1)))
        rec_ids = _fixed_width(
            [
                _text(b"rec-", len(rec_rows)),
                session_bytes[rec_rows],
                _text(b"-", len(rec_rows)),
                _digits(c["rec_step"][rec_rows], step_width),
            ]
        )
        rec_index = pa.array(np.cumsum(recommended) - 1, mask=~recommended)
        arm = pop.arm[c["user"]]
        slates = None
        if impression:
            shown = c["slate_row"] >= 0
            offsets = np.zeros(len(batch) + 1, dtype=np.int32)
            np.cumsum(np.where(shown, self.k, 0), out=offsets[1:])
            slate_items = items.take(pa.array(batch.slates[c["slate_row"][shown]].ravel()))
            slates = pa.ListArray.from_arrays(pa.array(offsets), slate_items, mask=pa.array(~shown))
        true_users = users.take(pa.array(c["user"]))
        data: dict[str, Any] = {
            "USER_ID": _with_nulls(true_users, ~c["visible"]),
            "SESSION_ID": sessions,
            "ITEM_ID": items.take(pa.array(c["item"])),
            "EVENT_TYPE": types.take(pa.array(c["etype"])),
            "EVENT_VALUE": pa.array(c["value"]),
            "TIMESTAMP": pa.array(c["ts"], type=pa.timestamp("us", tz="UTC")),
            "IMPRESSION": slates,
            "RECOMMENDATION_ID": rec_ids.take(rec_index),
            "EVENT_ATTRIBUTION_SOURCE": sources.take(
                pa.array(arm.astype(np.int64), mask=~recommended)
            ),
        }
        for j, spec in enumerate(cfg.properties):
            values = pa.array(list(spec.values), type=pa.large_string())
            data[spec.name] = values.take(pa.array(c["props"][:, j]))
        data["persona"] = pa.DictionaryArray.from_arrays(
            pa.array(pop.persona[c["user"]].astype(np.int8)),
            pa.array([p.name for p in cfg.population.personas]),
        )
        data["arm"] = pa.DictionaryArray.from_arrays(
            pa.array(arm), pa.array([a.name for a in cfg.exposure.arms])
        )
        data["position"] = pa.array(c["position"], mask=c["position"] < 0)
        data["organic"] = pa.array(c["position"] < 0)
        data["would_have_without_rec"] = pa.array(c["would_have"])
        data["true_user_id"] = true_users
        data["new_user"] = pa.array(pop.new[c["user"]])
        return data

    def table(self, batch: _Batch) -> Any:
        """The batch as a ``pyarrow.Table`` with the frame's columns and types."""
        import pyarrow as pa

        return pa.table(self.columns(batch))

    def frame_parts(self, batch: _Batch) -> dict[str, Any]:
        """A batch's columns, ready to join with other chunks' (see :meth:`assemble`).

        Strings stay Arrow arrays, numbers and codes numpy arrays, IMPRESSION an object
        array of Python lists.
        """
        c = batch.cols
        parts = self.columns(batch, impression=False)
        items = self._pool(
            "item_objects", lambda: np.array(self._strings["items"].to_pylist(), dtype=object)
        )
        impression = np.full(len(batch), None, dtype=object)
        rows = np.flatnonzero(c["slate_row"] >= 0)
        if len(rows):
            with paused_gc():  # millions of small lists: the cyclic GC would rescan them all
                lists = items[batch.slates[c["slate_row"][rows]]].tolist()
                impression[rows] = np.fromiter(lists, dtype=object, count=len(rows))
        pop = self.population
        user = c["user"]
        parts.update(
            EVENT_VALUE=c["value"],
            TIMESTAMP=c["ts"],
            IMPRESSION=impression,
            persona=pop.persona[user],
            arm=pop.arm[user],
            position=c["position"],
            organic=c["position"] < 0,
            would_have_without_rec=c["would_have"],
            new_user=pop.new[user],
        )
        return parts

    def assemble(self, chunks: list[dict[str, Any]], offset: int) -> pd.DataFrame:
        """One events frame from the parts of consecutive chunks (no pandas concat).

        The parts are consumed: each chunk's dict is emptied as its columns are joined.
        """
        import pandas as pd
        import pyarrow as pa

        if not chunks:
            chunks = [self.frame_parts(_Batch.empty(self.n_props, self.k))]

        def joined(name: str) -> Any:
            # pop each chunk's piece as it is joined, so memory is not held twice
            values = [chunk.pop(name) for chunk in chunks]
            if isinstance(values[0], np.ndarray):
                return values[0] if len(values) == 1 else np.concatenate(values)
            return pa.chunked_array(values, type=values[0].type)

        columns: dict[str, Any] = {}
        for name in list(chunks[0]):
            values = joined(name)
            if name == "TIMESTAMP":
                columns[name] = pd.DatetimeIndex(values.view("M8[us]")).tz_localize("UTC")
            elif name == "persona":
                names = [p.name for p in self.config.population.personas]
                columns[name] = pd.Categorical.from_codes(values, categories=names)
            elif name == "arm":
                names = [a.name for a in self.config.exposure.arms]
                columns[name] = pd.Categorical.from_codes(values, categories=names)
            elif name == "position":
                columns[name] = pd.arrays.IntegerArray(values, values < 0)
            elif isinstance(values, np.ndarray):
                columns[name] = values
            else:
                columns[name] = _str(values)
        n = len(columns["EVENT_VALUE"])
        return pd.DataFrame(columns, index=pd.RangeIndex(offset, offset + n))

    def frame(self, batch: _Batch, offset: int) -> pd.DataFrame:
        """Build the events frame of a batch; ``offset`` is its first row's index."""
        return self.assemble([self.frame_parts(batch)], offset)


def _str(values: Any) -> Any:
    """A pandas string array (the default ``str`` dtype) over an Arrow array, without copying."""
    import pandas as pd

    return pd.array(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _numbered(prefix: str, n: int) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pc.cast(pa.array(np.arange(n)), pa.string())
    return pc.binary_join_element_wise(prefix, numbers, "").cast(pa.large_string())


def _session_bytes(numbers: np.ndarray) -> np.ndarray:
    """``S`` + 10 digits per session number, as (n, 11) ASCII bytes.

    Fixed width, so string order is number (= start time) order. Each session of the
    span is formatted once and its bytes copied to every event.
    """
    if len(numbers) == 0:
        return np.empty((0, 1 + _SESSION_DIGITS), dtype=np.uint8)
    lo, hi = int(numbers.min()), int(numbers.max())
    span = np.arange(lo, hi + 1)
    formatted = np.hstack([_text(b"S", len(span)), _digits(span, _SESSION_DIGITS)])
    return formatted[numbers - lo]


def _with_nulls(strings: Any, missing: np.ndarray) -> Any:
    """The same string array with ``missing`` rows null, sharing its buffers (no copy)."""
    import pyarrow as pa

    if not missing.any():
        return strings
    if strings.offset or strings.null_count:  # a slice, or nulls already: copy instead
        import pyarrow.compute as pc

        return pc.if_else(pa.array(missing), pa.scalar(None, strings.type), strings)
    _, offsets, data = strings.buffers()
    validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.LargeStringArray.from_buffers(len(strings), offsets, data, validity)


def _digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """ASCII digits of non-negative integers, zero-padded: an (n, width) uint8 array."""
    out = np.empty((len(numbers), width), dtype=np.uint8)
    rest = numbers.astype(np.int64)
    for j in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        out[:, j] = digit
    out += ord("0")
    return out


def _text(text: bytes, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (n, len(text)))


def _fixed_width(parts: list[np.ndarray]) -> Any:
    """An Arrow string array whose i-th value is row i of the byte blocks, side by side.

    Building the buffers directly is several times faster than formatting numbers
    one by one or through Arrow's cast and join kernels.
    """
    import pyarrow as pa

    n = parts[0].shape[0]
    width = sum(part.shape[1] for part in parts)
    data = np.hstack(parts).astype(np.uint8) if n else np.empty(0, dtype=np.uint8)
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _categorical(probabilities: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(probabilities)
    cdf[-1] = 1.0
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int8)


def _gaps_us(gap: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    if gap.distribution == "lognormal":
        seconds = gap.median * np.exp(gap.sigma * rng.standard_normal(n))
    elif gap.distribution == "exponential":
        seconds = gap.mean * rng.standard_exponential(n)
    else:
        seconds = gap.low + (gap.high - gap.low) * rng.random(n)
    # at least 1 µs, so events of a session never share a timestamp
    return np.maximum(np.rint(seconds * 1e6), 1).astype(np.int64)


def _epoch_us(when: dt.datetime) -> int:
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
