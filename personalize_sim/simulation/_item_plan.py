"""The items of fitted traffic's picks, for the whole window at once (users as people).

A pick chooses item i with chance ``w_i κ^[i in H] / (1 - m + κ m)``: ``w`` the day's
choice distribution of the user's persona, ``H`` the items the user picked before, ``m``
their weight and κ ``traffic.repeat_odds`` (1: with replacement, 0: never twice; fitted
by ``calibration``'s ``_fit_choices``). Said the other way, a pick *returns* with chance
``q = κ m / (1 - m + κ m)``, to one of the user's items by its weight, and is otherwise
*fresh*: drawn from ``w`` until it lands outside ``H``.

Drawn for every user at once, not pick after pick:

1. every pick draws a fresh candidate from its day's catalog (and notes its chance, the
   weight it adds to its user's ``m`` when it stays fresh);
2. each pick's uniform decides whether it returns, given ``m`` from the picks before it
   that are fresh; the decisions are redone until none changes (the first pick of a user
   never returns, so decisions settle from the earliest on, and the fixed point is what
   drawing pick after pick with the same uniforms gives);
3. a return takes the item of an earlier fresh pick of its user, by weight (one search in
   the cumulative weights); a fresh candidate that lands on its user's history is drawn
   again, and steps 2 and 3 run again (at most ``REDRAW_ROUNDS`` times; what is left then
   stays a repeat).

(An earlier version kept or redrew whole picks with odds κ, all at once: a pick settled as
a return lost its reason when the earlier pick it matched was drawn again, and κ = 5 came
out as 2.5.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ._catalog import CatalogDay, CatalogDays
    from ._traffic import TrafficConfig

__all__ = ["plan_items", "seen_before"]

#: the catalog days a plan keeps between its rounds of drawing again (else it walks them)
DAY_CACHE_BYTES = 256 * 2**20
#: rounds of drawing again the fresh picks that land on their user's history
REDRAW_ROUNDS = 16
#: rounds for the decisions to return to settle (each round settles one more pick a user)
DECISION_ROUNDS = 64


def plan_items(
    traffic: TrafficConfig,
    new_days: Callable[[], CatalogDays],
    day: np.ndarray,
    user: np.ndarray,
    persona: np.ndarray,
    picks: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The item of every pick (``picks``: event indices of ``day``, ``user`` and ``persona``,
    in time order within each user); ``new_days()`` walks the catalog's days from the first."""
    n_picks = len(picks)
    item = np.zeros(n_picks, dtype=np.int64)
    chance = np.zeros(n_picks)
    pick_day, pick_user, pick_persona = day[picks], user[picks], persona[picks]

    kept_days: dict[int, CatalogDay] = {}
    n_days = int(pick_day.max(initial=0)) + 1
    days_at_once = n_days * _day_bytes(new_days) <= DAY_CACHE_BYTES

    def choose(which: np.ndarray) -> None:
        """Draw ``which`` picks again from their days' catalogs (days walked in order, or
        kept from the first walk when they all fit in DAY_CACHE_BYTES)."""
        u = rng.random(len(which))
        order = np.argsort(pick_day[which], kind="stable")
        which, u = which[order], u[order]
        bounds = np.flatnonzero(np.diff(pick_day[which], prepend=-1, append=-1))
        days = new_days()
        for lo, hi in itertools.pairwise(bounds):
            d = int(pick_day[which[lo]])
            today = kept_days.get(d) or days.on(d)
            if days_at_once:
                kept_days[d] = today
            mine, personas = which[lo:hi], pick_persona[which[lo:hi]]
            item[mine] = today.organic(personas, u[lo:hi])
            chance[mine] = today.pdf[personas, item[mine]]

    choose(np.arange(n_picks))
    if traffic.repeat_odds == 1.0:  # with replacement: every draw stands
        return item
    return _with_returns(item, chance, pick_user, traffic.repeat_odds, choose, rng)


def _with_returns(
    fresh: np.ndarray,
    chance: np.ndarray,
    user: np.ndarray,
    odds: float,
    choose: Callable[[np.ndarray], None],
    rng: np.random.Generator,
) -> np.ndarray:
    """Steps 2 and 3 of the module docstring; ``fresh`` and ``chance`` (the candidates and
    their chances, in time order within each user) are redrawn in place by ``choose``."""
    n = len(fresh)
    by_user = np.argsort(user, kind="stable")  # each user's picks together, in time order
    user = user[by_user]
    starts = np.flatnonzero(np.diff(user, prepend=-1) != 0)
    first = np.repeat(starts, np.diff(np.append(starts, n)))  # each pick's user's first
    here = np.arange(n)
    u_return, u_which = rng.random(n), rng.random(n)
    back = np.zeros(n, dtype=bool)
    source = here  # the pick whose item each pick takes (itself when fresh)
    for _ in range(REDRAW_ROUNDS):
        item, weight_of = fresh[by_user], chance[by_user]
        for _ in range(DECISION_ROUNDS):
            mass = _history(np.where(back, 0.0, weight_of), first)[1]
            now = u_return < odds * mass / (1.0 - mass + odds * mass)
            settled = bool((now == back).all())
            back = now
            if settled:
                break
        total, mass = _history(np.where(back, 0.0, weight_of), first)
        # a return: the earlier fresh pick whose weight covers u_which of the user's mass
        base = total[first] - np.where(back[first], 0.0, weight_of[first])
        at = np.searchsorted(total, base + u_which * mass, side="right")
        source = np.where(back, np.clip(at, first, here - 1), here)
        mine = np.flatnonzero(~back)
        key = user[mine].astype(np.int64) * (int(item.max(initial=0)) + 1) + item[mine]
        landed = mine[seen_before(key)]  # fresh, on an item the user had
        if len(landed) == 0:
            break
        choose(by_user[landed])
    out = np.empty(n, dtype=fresh.dtype)
    out[by_user] = fresh[by_user][source]
    return out


def _history(weight: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the running total of ``weight``, each pick's user's weight before it)."""
    total = np.cumsum(weight)
    before = total - weight
    return total, np.clip(before - before[first], 0.0, 1.0 - 1e-12)


def _day_bytes(new_days: Callable[[], CatalogDays]) -> int:
    """About what one catalog day holds: a choice table per persona, and by popularity."""
    catalog = new_days().catalog
    return catalog.size * (catalog.affinity.shape[0] + 1) * 8 * 3


def seen_before(key: np.ndarray) -> np.ndarray:
    """Whether an earlier element of ``key`` (integers ≥ 0) has the same value: one sort of
    the keys with their positions packed below them (a third of a hash table's time on 10M
    keys), or a hash table when both do not fit in 63 bits.

    >>> seen_before(np.array([3, 1, 3, 3, 1, 0])).tolist()
    [False, False, True, True, True, False]
    """
    n = len(key)
    shift = max(int(n - 1).bit_length(), 1)
    if n < 2 or int(key.max()).bit_length() + shift > 63:
        import pandas as pd

        return pd.Series(key).duplicated(keep="first").to_numpy()
    packed = np.sort((key.astype(np.int64) << shift) | np.arange(n))
    later = packed[1:][(packed[1:] >> shift) == (packed[:-1] >> shift)]
    out = np.zeros(n, dtype=bool)
    out[later & ((1 << shift) - 1)] = True
    return out
