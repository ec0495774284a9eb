"""Next Best Action: the actions of a site and the rule users follow when shown one.

:class:`ActionConfig` is one action ("join the loyalty programme") with the reserved fields
of an Actions dataset (``VALUE``, ``EXPIRATION_TIMESTAMP``, ``REPEAT_FREQUENCY``) and each
persona's propensity to take it; :class:`ActionsConfig` is the behavioural rule: which
sessions are shown an action, how fatigue lowers the propensity after repeats, how many
who do not take it say no. :func:`action_interactions` applies the rule to the sessions
of an events frame.

>>> ActionsConfig().actions[0].name
'join-loyalty'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._checks import check, count, number, probability
from ._config_checks import named_items, valid_name

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NOT_TAKEN", "TAKEN", "VIEWED", "ActionConfig", "ActionsConfig", "action_interactions"]

#: the event types of an action interaction (Developer Guide, "Recording action interaction
#: events"; the bulk CSV example spells the second "Not taken")
VIEWED, TAKEN, NOT_TAKEN = "Viewed", "Taken", "Not taken"
DAY_US = 86_400_000_000


@dataclass(frozen=True, kw_only=True)
class ActionConfig:
    """One action: its value, expiry, repeat frequency and each persona's propensity."""

    name: str
    #: the action's VALUE (a long in the Actions schema)
    value: int = 1
    #: EXPIRATION_TIMESTAMP, days after the window ends; None: it never expires
    expires_after_days: float | None = None
    #: REPEAT_FREQUENCY in days: how soon a taker may be shown it again; None: never
    repeat_frequency: int | None = None
    #: where the action is offered (the actions dataset's categorical CHANNEL)
    channel: str = "web"
    #: P(Taken | Viewed) of a persona not listed in ``propensity``
    base_propensity: float = 0.05
    #: persona name -> P(Taken | Viewed) on a first view
    propensity: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        valid_name(self.name, "name")
        valid_name(self.channel, "channel")
        check(
            isinstance(self.value, int) and not isinstance(self.value, bool),
            "value", self.value, "an integer (VALUE is a long in the Actions schema)",
        )  # fmt: skip
        if self.expires_after_days is not None:
            number(self.expires_after_days, "expires_after_days", low=0.0)
        if self.repeat_frequency is not None:
            count(self.repeat_frequency, "repeat_frequency", low=1)
        probability(self.base_propensity, "base_propensity")
        check(isinstance(self.propensity, Mapping), "propensity", self.propensity, "a mapping")
        for persona, value in self.propensity.items():
            probability(value, f"propensity.{persona}")
        object.__setattr__(self, "propensity", dict(self.propensity))


def _default_actions() -> tuple[ActionConfig, ...]:
    return (
        ActionConfig(name="join-loyalty", value=50, repeat_frequency=None, base_propensity=0.08),
        ActionConfig(
            name="install-app",
            value=20,
            channel="app",
            expires_after_days=30,
            base_propensity=0.05,
        ),
        ActionConfig(
            name="subscribe-newsletter",
            value=5,
            channel="email",
            repeat_frequency=30,
            base_propensity=0.12,
        ),
    )


@dataclass(frozen=True, kw_only=True)
class ActionsConfig:
    """Actions and how identified users respond when a session shows them one."""

    actions: tuple[ActionConfig, ...] = field(default_factory=_default_actions)
    #: share of sessions with a known user that are shown an action
    view_share: float = 0.2
    #: the propensity is multiplied by this for each earlier view of the same action
    fatigue: float = 0.7
    #: share of users who do not take a viewed action that decline it explicitly (Not taken)
    decline_share: float = 0.5

    def __post_init__(self) -> None:
        if self.actions:
            named_items(self.actions, "actions", "action")
        probability(self.view_share, "view_share")
        probability(self.fatigue, "fatigue")
        probability(self.decline_share, "decline_share")


def action_interactions(
    config: ActionsConfig,
    sessions: pd.DataFrame,
    persona_names: list[str],
    expires_us: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Apply the rule to ``sessions`` (one row per session with a known user, in time order:
    ``SESSION_ID, USER_ID, TIMESTAMP, persona``): a shown action is Viewed at the session's
    first identified event, then Taken one second later with the persona's propensity times
    ``fatigue ** earlier_views``, else Not taken with ``decline_share``. A taken action is not
    shown again within its repeat frequency (never, without one), nor after it expires.

    Returns ``USER_ID, SESSION_ID, ACTION_ID, EVENT_TYPE, TIMESTAMP`` and the ground truth
    ``persona`` and ``propensity`` (the probability the user had of taking it).
    """
    import pandas as pd

    actions = config.actions
    n = len(sessions)
    shown = rng.random(n) < config.view_share
    choice = rng.integers(0, max(len(actions), 1), size=n)
    u_take, u_decline = rng.random(n), rng.random(n)
    if not actions:
        shown[:] = False
    table = np.array(
        [[a.propensity.get(p, a.base_propensity) for p in persona_names] for a in actions]
    ).reshape(len(actions), len(persona_names))
    repeat_us = [
        None if a.repeat_frequency is None else a.repeat_frequency * DAY_US for a in actions
    ]
    users = sessions["USER_ID"].to_numpy(dtype=object)
    session_ids = sessions["SESSION_ID"].to_numpy(dtype=object)
    personas = sessions["persona"].to_numpy(dtype=object)
    persona_index = {name: i for i, name in enumerate(persona_names)}
    micros = sessions["TIMESTAMP"].to_numpy(dtype="datetime64[us]").astype(np.int64)
    views: dict[tuple[str, int], int] = {}
    taken_at: dict[tuple[str, int], int] = {}
    rows: list[tuple[str, str, str, str, int, str, float]] = []
    for i in np.flatnonzero(shown).tolist():
        a, user, at = int(choice[i]), users[i], int(micros[i])
        if at >= expires_us[a]:
            continue
        last, every = taken_at.get((user, a)), repeat_us[a]
        if last is not None and (every is None or at - last < every):
            continue
        seen = views.get((user, a), 0)
        views[(user, a)] = seen + 1
        p = float(table[a, persona_index[personas[i]]]) * config.fatigue**seen
        name = actions[a].name
        rows.append((user, session_ids[i], name, VIEWED, at, personas[i], p))
        if u_take[i] < p:
            taken_at[(user, a)] = at
            rows.append((user, session_ids[i], name, TAKEN, at + 1_000_000, personas[i], p))
        elif u_decline[i] < config.decline_share:
            rows.append((user, session_ids[i], name, NOT_TAKEN, at + 1_000_000, personas[i], p))
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    from .._timestamps import utc_from_us

    frame = pd.DataFrame(
        {
            "USER_ID": pd.Series(columns[0], dtype="str"),
            "SESSION_ID": pd.Series(columns[1], dtype="str"),
            "ACTION_ID": pd.Series(columns[2], dtype="str"),
            "EVENT_TYPE": pd.Series(columns[3], dtype="str"),
            "TIMESTAMP": pd.Series(utc_from_us(np.asarray(columns[4], dtype=np.int64))),
            "persona": pd.Series(columns[5], dtype="str"),
            "propensity": pd.Series(columns[6], dtype="float64"),
        }
    )
    return frame.sort_values("TIMESTAMP", kind="stable").reset_index(drop=True)
