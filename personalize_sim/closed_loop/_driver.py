"""The closed loop: simulated users ask a recommender for slates, click, and it learns.

Sessions unfold in event-time order. In each, the user's arm (A/B split by user)
asks its recommender for a slate (``GetRecommendations`` through a
:class:`~personalize_sim.closed_loop.RuntimeArms` client, or the online models in-process through
:class:`~personalize_sim.closed_loop.OnlineArms`); the user scans it and clicks at most one item;
a user who clicks nothing sometimes finds an item on their own (organic, no
recommendation): so some clicks on a recommendation would have happened anyway.
The session's events then go back to the recommender (``feedback``: PutEvents, or the
models' ``observe``) before the next session asks, so recommendations learn from
earlier users. A slate request that finally fails leaves the session without a
recommendation: its organic event is still made, nothing is invented, and it is
counted (``LoopResult.failed_slates``).

Users (honest and simple): each item has an *appeal* (log-normal) and a taste group,
each user a taste group; an item of the user's group is ``taste`` times as appealing.
The user examines slot ``p`` with probability ``0.9**p`` and clicks an examined item
with ``1 - exp(-ctr · appeal · taste)``. At ``shift_day`` every appeal is drawn again:
what users click shifts, and a recommender that learns must follow. Items arrive too
(``new_items_per_day``), to see whether new items are ever recommended. A click becomes a
``purchase`` event too with probability ``purchase_rate``; a user who bought an item never
clicks it again (it is owned), so a slate that keeps showing it wastes a place: what an
"exclude purchased" filter is for.

>>> from personalize_sim.closed_loop import LoopConfig, OnlineArms, run_loop
>>> arms = OnlineArms({"top": "popularity"}, rng=0)
>>> result = run_loop(LoopConfig(users=30, items=40, days=1), arms, rng=0)
>>> int(result.slates["CLICKED"].sum()) == int(result.events["RECOMMENDATION_ID"].notna().sum())
True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .._checks import count, instance, number, positive, probability
from ..errors import ConfigError, SlateFailedError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LoopConfig",
    "LoopEvent",
    "LoopResult",
    "SlateSource",
    "run_loop",
]

_DAY = 86_400.0
#: columns of ``LoopResult.slates``, one row per slate request
SLATE_COLUMNS = (
    "TIMESTAMP",
    "DAY",
    "USER_ID",
    "ARM",
    "RECOMMENDER_ARN",
    "RECOMMENDATION_ID",
    "ITEMS",
    "FAILED",
    "CLICKED",
    "CLICKED_ITEM",
)
_EXAMINE = 0.9  # the chance of looking at the next slot


@dataclass(frozen=True, kw_only=True)
class LoopConfig:
    """The simulated users and catalogue of a closed loop (see the module docstring)."""

    users: int = 200
    items: int = 100
    days: float = 7.0
    sessions_per_day: float = 1.0  # per user, Poisson
    slate_size: int = 10
    ctr: float = 0.1
    taste_groups: int = 5
    taste: float = 3.0
    organic_rate: float = 0.3  # share of sessions without a click that find an item alone
    shift_day: float | None = None  # appeals drawn anew at this day
    new_items_per_day: int = 0
    purchase_rate: float = 0.0  # share of clicks followed by a purchase of the item
    start: dt.datetime = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)

    def __post_init__(self) -> None:
        count(self.users, "users", low=1)
        count(self.items, "items", low=1)
        positive(self.days, "days")
        positive(self.sessions_per_day, "sessions_per_day")
        count(self.slate_size, "slate_size", low=1)
        number(self.ctr, "ctr", low=0.0)
        count(self.taste_groups, "taste_groups", low=1)
        number(self.taste, "taste", low=1.0)
        probability(self.organic_rate, "organic_rate")
        if self.shift_day is not None:
            number(self.shift_day, "shift_day", low=0.0)
        count(self.new_items_per_day, "new_items_per_day")
        probability(self.purchase_rate, "purchase_rate")
        instance(self.start, "start", dt.datetime, "a timezone-aware datetime")
        if self.start.tzinfo is None:
            raise ConfigError("start", self.start, "a timezone-aware datetime")


@dataclass(frozen=True)
class LoopEvent:
    """One event of a session, as the loop sends it back (PutEvents fields)."""

    user_id: str
    session_id: str
    event_id: str
    item_id: str
    at: float  # epoch seconds
    recommendation_id: str | None = None
    impression: tuple[str, ...] | None = None
    issuer: str | None = None  # the ARN that issued recommendation_id (ground truth, not sent)
    event_type: str = "click"


class SlateSource(Protocol):
    """What the loop needs of a set of recommenders (see ``_arms``)."""

    @property
    def arns(self) -> Mapping[str, str]: ...  # arm name -> issuing ARN

    def slate(
        self, arm: str, user_id: str, n: int, at: float
    ) -> tuple[list[str], str]: ...  # items, recommendationId; raises SlateFailedError

    def feedback(self, events: Sequence[LoopEvent]) -> None: ...


@dataclass(frozen=True, eq=False)
class LoopResult:
    """Events (an events frame; ``RECOMMENDER_ARN`` names the issuer of each event's id, as
    the emulator's ``tracker.events()`` does, so ``attribution_report`` needs no mapping),
    one row per slate request, the items, and how many slate requests failed."""

    events: pd.DataFrame
    slates: pd.DataFrame  # SLATE_COLUMNS; ITEMS is a list, empty when the request failed
    items: pd.DataFrame  # ITEM_ID, ARRIVED_DAY, GROUP
    failed_slates: int
    arns: Mapping[str, str] = field(default_factory=dict)


class _Users:
    """Appeals, groups and arrivals of items; groups and arms of users."""

    def __init__(self, config: LoopConfig, arms: Sequence[str], rng: np.random.Generator):
        days = math.ceil(config.days)
        total = config.items + config.new_items_per_day * days
        self.arrived_day = np.concatenate(
            [
                np.zeros(config.items),
                1 + np.arange(total - config.items) // max(1, config.new_items_per_day),
            ]
        ).astype(np.int64)
        self.item_group = rng.integers(0, config.taste_groups, total)
        self.appeal = [rng.lognormal(0.0, 1.0, total), rng.lognormal(0.0, 1.0, total)]
        self.user_group = rng.integers(0, config.taste_groups, config.users)
        order = rng.permutation(config.users)
        self.user_arm = [arms[i % len(arms)] for i in np.argsort(order)]
        self.config = config
        self.item_ids = [f"item-{i}" for i in range(total)]
        self.index = {item: i for i, item in enumerate(self.item_ids)}
        self.owned: dict[int, set[int]] = {}  # user -> items bought

    def appeal_at(self, day: float) -> np.ndarray:
        shift = self.config.shift_day
        return self.appeal[1 if shift is not None and day >= shift else 0]

    def weights(self, user: int, day: float) -> np.ndarray:
        """Appeal × taste of every item on sale for ``user`` at ``day`` (0 when not yet)."""
        boost = np.where(self.item_group == self.user_group[user], self.config.taste, 1.0)
        found = np.where(self.arrived_day <= day, self.appeal_at(day) * boost, 0.0)
        found[list(self.owned.get(user, ()))] = 0.0  # bought already: never clicked again
        return found


def run_loop(
    config: LoopConfig,
    source: SlateSource,
    *,
    rng: int | np.random.Generator | None = None,
    on_session: Callable[[float], None] | None = None,
) -> LoopResult:
    """Run the loop of ``config`` against the recommenders of ``source``.

    ``on_session(at)`` is called before each session with its epoch time (the real-time
    mode waits there until the session is due); ``rng`` seeds the users.
    """
    import pandas as pd

    rng = np.random.default_rng(rng)
    arms = list(source.arns)
    if not arms:
        raise ConfigError("source", source, "at least one recommender (arm)")
    users = _Users(config, arms, rng)
    start = config.start.timestamp()
    n_sessions = rng.poisson(config.sessions_per_day * config.days, config.users)
    who = np.repeat(np.arange(config.users), n_sessions)
    when = rng.uniform(0.0, config.days * _DAY, len(who))
    order = np.argsort(when, kind="stable")
    events: list[LoopEvent] = []
    slates: list[dict[str, Any]] = []
    for s, (user, offset) in enumerate(zip(who[order], when[order], strict=True)):
        at = start + float(offset)
        if on_session is not None:
            on_session(at)
        row, session = _session(config, source, users, int(user), offset, at, s, rng)
        slates.append(row)
        events.extend(session)
        if session:
            source.feedback(session)
    return LoopResult(
        events=_events_frame(events),
        slates=_slates_frame(slates),
        items=pd.DataFrame(
            {
                "ITEM_ID": users.item_ids,
                "ARRIVED_DAY": users.arrived_day,
                "GROUP": users.item_group,
            }
        ),
        failed_slates=sum(row["FAILED"] for row in slates),
        arns=dict(source.arns),
    )


def _session(
    config: LoopConfig,
    source: SlateSource,
    users: _Users,
    user: int,
    offset: float,
    at: float,
    number: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Any], list[LoopEvent]]:
    """One session: ask for a slate, maybe click, maybe find an item on one's own."""
    day = offset / _DAY
    user_id, arm, session_id = f"user-{user}", users.user_arm[user], f"session-{number}"
    row = dict.fromkeys(SLATE_COLUMNS)
    row.update(TIMESTAMP=at, DAY=int(day), USER_ID=user_id, ARM=arm, FAILED=False)
    row.update(RECOMMENDER_ARN=source.arns[arm], CLICKED=False, ITEMS=[])
    session: list[LoopEvent] = []
    try:
        shown, rec_id = source.slate(arm, user_id, config.slate_size, at)
    except SlateFailedError:  # no recommendation: the session goes on without one
        row["FAILED"] = True
        shown, rec_id = [], None
    row["RECOMMENDATION_ID"], row["ITEMS"] = rec_id, list(shown)
    weights = users.weights(user, day)
    clicked = _click(users, shown, weights, config.ctr, rng)
    if clicked is not None:
        row["CLICKED"], row["CLICKED_ITEM"] = True, clicked
        issuer = source.arns[arm] if rec_id is not None else None
        click = LoopEvent(user_id, session_id, f"{session_id}-0", clicked, at + 1.0)
        click = replace(click, recommendation_id=rec_id, impression=tuple(shown), issuer=issuer)
        session.append(click)
        if config.purchase_rate and rng.random() < config.purchase_rate:
            users.owned.setdefault(user, set()).add(users.index[clicked])
            bought = replace(click, event_id=f"{session_id}-2", at=at + 1.5, impression=None)
            session.append(replace(bought, event_type="purchase"))
    elif rng.random() < config.organic_rate:  # no click: maybe they find one on their own
        found = users.item_ids[int(rng.choice(len(weights), p=weights / weights.sum()))]
        session.append(LoopEvent(user_id, session_id, f"{session_id}-1", found, at + 2.0))
    return row, session


def _click(
    users: _Users, shown: Sequence[str], weights: np.ndarray, ctr: float, rng: np.random.Generator
) -> str | None:
    """The item clicked in the slate (scanned top-down, at most one), or None."""
    for position, item in enumerate(shown):
        if rng.random() >= _EXAMINE**position:
            return None  # the user stopped looking
        i = users.index.get(item)
        if i is None or weights[i] == 0.0:  # an item the simulation does not sell (yet)
            continue
        if rng.random() < 1.0 - math.exp(-ctr * weights[i]):
            return item
    return None


def _events_frame(events: list[LoopEvent]) -> pd.DataFrame:
    import pandas as pd

    from .._timestamps import utc_from_seconds

    return pd.DataFrame(
        {
            "USER_ID": pd.array([e.user_id for e in events], dtype="string"),
            "SESSION_ID": pd.array([e.session_id for e in events], dtype="string"),
            "ITEM_ID": pd.array([e.item_id for e in events], dtype="string"),
            "EVENT_TYPE": pd.array([e.event_type for e in events], dtype="string"),
            "TIMESTAMP": utc_from_seconds([e.at for e in events]),
            "EVENT_ID": pd.array([e.event_id for e in events], dtype="string"),
            "IMPRESSION": pd.Series(
                [None if e.impression is None else list(e.impression) for e in events],
                dtype=object,
            ),
            "RECOMMENDATION_ID": pd.array([e.recommendation_id for e in events], dtype="string"),
            "RECOMMENDER_ARN": pd.array([e.issuer for e in events], dtype="string"),
        }
    )


def _slates_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    from .._timestamps import utc_from_seconds

    frame = pd.DataFrame(rows, columns=list(SLATE_COLUMNS))
    frame["TIMESTAMP"] = utc_from_seconds(frame["TIMESTAMP"].to_numpy(dtype=float))
    return frame
