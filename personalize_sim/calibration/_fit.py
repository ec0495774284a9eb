"""``fit``: a simulation config estimated from a real interactions log.

What is estimated, and where it lands in the config (every estimate a plain field):

===========================  ==========================================================
item popularity              ``catalog.popularity_ranks`` / ``popularity_shares`` (the
                             rank-frequency curve of rates while on sale)
its drift over time          ``catalog.drift_sigma``
new items over time          ``catalog.new_item_share`` (released on uniform days; from
                             the items frame's CREATION_TIMESTAMP when given)
sessions per user            ``traffic.sessions_per_user`` (percentiles: heavy tail kept)
returning users' idle time   ``traffic.idle_gaps`` (percentiles, in profile time)
session length               ``traffic.session_lengths`` (percentiles)
gaps inside a session        ``time.gap`` (``empirical`` percentiles, seconds)
daily and weekly arrivals    ``time.hourly_profile`` / ``weekly_profile`` in ``timezone``
the funnel                   ``funnel.start`` / ``transitions`` (observed frequencies)
event values per type        ``funnel.event_types[].value_quantiles``
===========================  ==========================================================

Users, items and the window are the log's. What cannot be estimated (a log without
returning users, a log shorter than two days…) keeps the default and says so in
``traffic.notes``. The fitted site shows no slates (``exposure.slate_probability: 0``):
a log does not say which events a recommender caused.

>>> from personalize_sim.simulation import simulate
>>> real = simulate("retail", users=300, days=3, rng=1, start="2026-01-05")
>>> real = real.assign(USER_ID=real["true_user_id"])
>>> config = fit(real, timezone="America/New_York")
>>> config.population.users == real["USER_ID"].nunique(), config.funnel.names[:2]
(True, ('View', 'AddToCart'))
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np

from .._checks import instance
from .._sessions import DEFAULT_SESSION_GAP
from ..errors import ConfigError
from ..simulation import (
    EXIT,
    ArmConfig,
    CatalogConfig,
    CategoryConfig,
    EventTypeConfig,
    ExposureConfig,
    FunnelConfig,
    PopulationConfig,
    SimulationConfig,
    TimeConfig,
)
from ..simulation.internal import quantile_table
from ._fit_catalog import fit_drift, fit_new_items, fit_popularity, unseen_items
from ._fit_choices import fit_choices
from ._fit_time import (
    fit_gap,
    fit_profiles,
    fit_traffic,
    fit_window,
    sessions_per_user_per_day,
    shortest_idle,
)
from ._fit_users import fit_activity, fit_hours, fresh_picks, value_shares
from ._interactions import Interactions, read_interactions

__all__ = ["fit"]

#: share of a type's events that must carry EVENT_VALUE for values to be fitted
VALUE_SHARE = 0.5


def fit(
    frame: Any,
    *,
    timezone: str | None = None,
    session_gap: float | None = None,
    event_type: str = "Event",
    name: str = "fitted",
    items: Any = None,
) -> SimulationConfig:
    """A :class:`SimulationConfig` whose traffic looks like ``frame``'s (see the module).

    ``frame`` is an events frame of a real interactions log (``USER_ID``, ``ITEM_ID``,
    ``TIMESTAMP``; optionally ``EVENT_TYPE``, ``EVENT_VALUE``, ``SESSION_ID``).
    ``timezone`` (IANA name, default UTC) is where the daily and weekly profiles are read.
    Without ``SESSION_ID`` (or with ``session_gap`` given) sessions end after
    ``session_gap`` seconds (default 1800) with no event. ``event_type`` names the single
    event type of a log without EVENT_TYPE. ``items`` (an items frame with ``ITEM_ID``,
    optionally ``CREATION_TIMESTAMP``) adds the items no event touched to the catalog, and
    gives the new items' share directly.
    """
    instance(event_type, "event_type", str, "an event type name")
    zone = "UTC" if timezone is None else timezone
    TimeConfig(timezone=zone)  # checks the name before any work
    events = read_interactions(frame, session_gap=session_gap, event_type=event_type)
    gap = DEFAULT_SESSION_GAP if session_gap is None else float(session_gap)
    if events.source == "SESSION_ID":
        # sessions given by id may follow each other closer than any inactivity rule; the
        # shortest idle time the log shows is the floor (at least a second)
        gap = shortest_idle(events, gap)
    notes: list[str] = [f"sessions: {events.source}"]
    window = fit_window(events, zone)
    hourly, weekly = fit_profiles(events, window, notes)
    time = TimeConfig(
        days=window.days,
        start=_utc(window.start_us),
        timezone=zone,
        sessions_per_user_per_day=sessions_per_user_per_day(events, window),
        hourly_profile=hourly,
        weekly_profile=weekly,
        gap=fit_gap(events, notes),
    )
    funnel = _fit_funnel(events, notes)
    picking = np.array([e.new_item for e in funnel.event_types])
    picks = np.flatnonzero(picking[events.etype])
    repeated, pick_user, pick_item = fresh_picks(events, picks)
    first, new, after = fit_new_items(events, window, pick_item, events.ts[picks])
    n_items, new_share = events.n_items, _new_share(new)
    if items is not None:
        n_items, new_share = _catalog_items(items, frame, window, new_share, notes)
    else:
        # users per item: an item's returns tell nothing of the items nobody picked
        n_items += unseen_items(np.bincount(pick_item[~repeated], minlength=events.n_items), notes)
    repeat_odds, exposure = fit_choices(pick_user, pick_item, repeated, events.n_items, notes)
    ranks, shares = fit_popularity(
        events, window, after, new, pick_item, exposure, unseen=n_items - events.n_items
    )
    catalog = CatalogConfig(
        items=n_items,
        categories=(CategoryConfig(name="all"),),
        new_item_share=new_share,
        drift_sigma=fit_drift(events, window, first, notes),
        popularity_ranks=ranks,
        popularity_shares=shares,
    )
    buckets, lengths_by_bucket, correlations = fit_activity(events, notes)
    user_hours, hour_buckets, concentrations = fit_hours(events, zone, notes)
    traffic = dataclasses.replace(
        fit_traffic(events, window, time, gap, notes),
        user_buckets=buckets, session_lengths_by_bucket=lengths_by_bucket,
        length_correlation=correlations, user_hours=user_hours,
        hour_buckets=hour_buckets, hour_concentrations=concentrations,
        repeat_odds=repeat_odds, notes=tuple(notes),
    )  # fmt: skip
    config = SimulationConfig(
        name=name,
        catalog=catalog,
        population=PopulationConfig(
            users=events.n_users, anonymous_share=0.0, login_share=0.0, activity_sigma=0.0
        ),
        time=time,
        funnel=funnel,
        exposure=ExposureConfig(
            slate_size=min(10, catalog.initial_items),
            slate_probability=0.0,
            arms=(ArmConfig(name="none", recommender="none"),),
        ),
        traffic=traffic,
    )
    return config


def _catalog_items(
    items: Any, log: Any, window: Any, estimate: float, notes: list[str]
) -> tuple[int, float]:
    """Catalog size and new items' share from an items frame (the log's items included)."""
    import pandas as pd

    from .._timestamps import epoch_us_of

    if not isinstance(items, pd.DataFrame) or "ITEM_ID" not in items.columns:
        raise ConfigError("items", type(items).__name__, "an items frame with an ITEM_ID column")
    known = pd.Index(items["ITEM_ID"].dropna().unique())
    n_items = len(known.union(pd.Index(log["ITEM_ID"].unique())))
    if "CREATION_TIMESTAMP" not in items.columns:
        return n_items, estimate
    created = epoch_us_of(items["CREATION_TIMESTAMP"], "items.CREATION_TIMESTAMP")
    share = float(np.mean(created >= window.start_us + 86_400_000_000)) * len(items) / n_items
    notes.append("catalog.new_item_share: from the items' CREATION_TIMESTAMP")
    return n_items, round(min(share, (n_items - 1) / n_items) if n_items > 1 else 0.0, 6)


def _utc(epoch_us: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=epoch_us)


def _new_share(new: np.ndarray) -> float:
    share = float(new.mean()) if len(new) else 0.0
    # at least one item must be on sale from the start; keep the share below 1
    return round(min(share, (len(new) - 1) / len(new)) if len(new) > 1 else 0.0, 6)


def _fit_funnel(log: Interactions, notes: list[str]) -> FunnelConfig:
    """Event types, start and transition frequencies, and each type's values."""
    n_types = len(log.type_names)
    first = log.session_first
    last = log.session_last
    start = np.bincount(log.etype[first], minlength=n_types).astype(np.float64)
    same = np.diff(log.session) == 0
    table = np.zeros((n_types, n_types + 1))
    np.add.at(table, (log.etype[:-1][same], log.etype[1:][same]), 1.0)
    np.add.at(table, (log.etype[last], n_types), 1.0)
    # a type "picks a new item" when its item mostly differs from the one before it
    changed = np.ones(len(log.item), dtype=bool)
    changed[1:] = ~same | (log.item[1:] != log.item[:-1])
    new_share = np.bincount(log.etype, weights=changed, minlength=n_types) / np.maximum(
        np.bincount(log.etype, minlength=n_types), 1
    )
    names = log.type_names
    picking = new_share >= 0.5
    if not (picking & (start > 0)).any():  # no type picks: the one opening most sessions does
        picking[np.argmax(start)] = True
    cut = start[~picking].sum()
    if cut:
        # a session cut by the inactivity rule (no SESSION_ID) may open with a cart of the
        # item viewed before: it stays the item's cart, and the session opens with a pick
        opened = [names[t] for t in np.flatnonzero(~picking & (start > 0))]
        notes.append(
            f"funnel.start: {int(cut):,} sessions ({cut / start.sum():.2%}) open with "
            f"{', '.join(opened)}, which act on the item before; they open with a pick"
        )
        start = np.where(picking, start, 0.0)
    types = tuple(
        _event_type(log, code, names[code], bool(picking[code])) for code in range(n_types)
    )
    targets = (*names, EXIT)
    transitions = {
        names[a]: {targets[b]: p for b, p in enumerate(_probabilities(table[a])) if table[a, b] > 0}
        for a in range(n_types)
    }
    start_probs = _probabilities(start)
    lengths = last - first + 1
    return FunnelConfig(
        event_types=types,
        start={names[t]: p for t, p in enumerate(start_probs) if start[t] > 0},
        transitions=transitions,
        max_events=max(int(lengths.max()), 1),
    )


def _event_type(log: Interactions, code: int, name: str, new_item: bool) -> EventTypeConfig:
    values = log.value[log.etype == code]
    present = values[~np.isnan(values)]
    if len(values) == 0 or len(present) < VALUE_SHARE * len(values) or len(present) < 2:
        return EventTypeConfig(name=_valid(name), new_item=new_item)
    mine = np.flatnonzero(log.etype == code)
    mine = mine[~np.isnan(log.value[mine])]
    user_share, item_share = value_shares(log.value[mine], log.user[mine], log.item[mine])
    return EventTypeConfig(
        name=_valid(name),
        new_item=new_item,
        value="empirical",
        value_quantiles=quantile_table(present),
        value_discrete=bool(np.all(present == np.rint(present))),
        value_user_share=user_share,
        value_item_share=item_share,
    )


def _valid(name: str) -> str:
    if name == EXIT:
        raise ConfigError(
            "log.EVENT_TYPE", name, f"any name but {EXIT!r} (the simulator's end of session)"
        )
    return name


def _probabilities(counts: np.ndarray) -> list[float]:
    """Frequencies rounded to 6 decimals that still sum to 1 (the largest takes the rest)."""
    total = counts.sum()
    probs = [round(float(c / total), 6) for c in counts]
    top = int(np.argmax(counts))
    probs[top] = round(1.0 - math.fsum(p for i, p in enumerate(probs) if i != top), 9)
    return probs
