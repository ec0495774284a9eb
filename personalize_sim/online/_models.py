"""Online item models and the declared recommender spec (see :mod:`personalize_sim.online`)."""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from personalize_sim._checks import count, one_of, positive
from personalize_sim.errors import ConfigError

__all__ = ["KINDS", "OnlineModels", "RecommenderSpec"]

KINDS = ("popularity", "trending", "similar-items", "user-personalization", "random")
#: kinds answering GetActionRecommendations (a PERSONALIZED_ACTIONS campaign)
ACTION_KINDS = ("personalized-actions",)
#: what a request to each kind must carry: a user, an item, or either
_NEEDS = {
    "popularity": None,
    "trending": None,
    "similar-items": "itemId",
    "user-personalization": "userId",
    "random": None,
    "personalized-actions": "userId",
}
_ACCOUNT = "000000000000"
_REGION = "us-east-1"
#: how far (in natural-log units) trending's running total may drift above its base
#: before it is rebased; exp(600) is still far inside a double
_REBASE = 600.0


@dataclass(frozen=True)
class RecommenderSpec:
    """One declared recommender (or campaign): a name, a kind and so a stable ARN.

    >>> spec = RecommenderSpec.parse("top=popularity")
    >>> spec.arn
    'arn:aws:personalize:us-east-1:000000000000:recommender/top'
    >>> RecommenderSpec.parse("campaign/mine=user-personalization").arn
    'arn:aws:personalize:us-east-1:000000000000:campaign/mine'
    """

    name: str
    kind: str
    resource: str = "recommender"  # or "campaign": GetPersonalizedRanking needs a campaign

    def __post_init__(self) -> None:
        one_of(self.kind, f"recommender {self.name!r} kind", KINDS + ACTION_KINDS)
        one_of(self.resource, f"recommender {self.name!r} resource", ("recommender", "campaign"))
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ConfigError("recommender name", self.name, "letters, digits, - and _")

    @property
    def arn(self) -> str:
        return f"arn:aws:personalize:{_REGION}:{_ACCOUNT}:{self.resource}/{self.name}"

    @property
    def recommends_actions(self) -> bool:
        """True for a kind that answers GetActionRecommendations (``personalized-actions``)."""
        return self.kind in ACTION_KINDS

    @property
    def needs(self) -> str | None:
        """What a request to this kind must carry: ``"userId"``, ``"itemId"`` or None."""
        return _NEEDS[self.kind]

    @classmethod
    def parse(cls, spec: str | RecommenderSpec) -> RecommenderSpec:
        """``NAME=KIND`` (a recommender) or ``campaign/NAME=KIND`` (a campaign)."""
        if isinstance(spec, RecommenderSpec):
            return spec
        if not isinstance(spec, str) or spec.count("=") != 1:
            raise ConfigError(
                "recommender", spec, f"NAME=KIND with KIND one of {', '.join(KINDS + ACTION_KINDS)}"
            )
        name, kind = spec.split("=")
        resource = "recommender"
        if name.startswith("campaign/"):
            resource, name = "campaign", name.removeprefix("campaign/")
        return cls(name=name, kind=kind, resource=resource)


class OnlineModels:
    """The shared state every kind reads, updated one event at a time (see the module doc)."""

    def __init__(
        self,
        *,
        half_life: float = 3600.0,
        recent_items: int = 20,
        max_items: int = 1_000_000,
        max_users: int = 1_000_000,
        max_neighbours: int = 100,
        rng: int | None = None,
    ) -> None:
        from sortedcontainers import SortedList

        self.half_life = positive(half_life, "half_life")
        self.recent_items = count(recent_items, "recent_items", low=1)
        self.max_items = count(max_items, "max_items", low=1)
        self.max_users = count(max_users, "max_users", low=1)
        self.max_neighbours = count(max_neighbours, "max_neighbours", low=1)
        self._rate = math.log(2) / self.half_life
        self.counts: OrderedDict[str, int] = OrderedDict()  # item -> events; LRU order
        self._by_count: Any = SortedList()  # (-count, item): popularity, best first
        self._total = 0  # events counted for the items held
        # trending: heat = log of sum(exp(rate * (at - origin))) over the item's events;
        # its score at `now` is exp(heat - rate * (now - origin)), so the order of heats is
        # the order of scores at any time
        self._heat: dict[str, float] = {}
        self._by_heat: Any = SortedList()  # (-heat, item): trending, best first
        self._origin: float | None = None  # event time heats are referred to
        self._heat_base = 0.0  # the running total of exp(heat) is kept as exp(heat - base)
        self._heat_total = 0.0
        self.links: dict[str, dict[str, int]] = {}  # item -> neighbour -> co-occurrences
        self.recent: OrderedDict[str, list[str]] = OrderedDict()  # user -> recent items
        self.catalog: OrderedDict[str, int] = OrderedDict()  # item -> slot in _pool; LRU
        self._pool: list[str] = []  # every known item, cold ones too, for uniform samples
        self.now = -math.inf  # latest event time seen (trending decays to it)
        self._rng = random.Random(rng)

    # -- learning ------------------------------------------------------------------------

    def add_items(self, items: Iterable[str]) -> None:
        """Items known from PutItems: only ``random`` may show them before anyone clicks."""
        for item in items:
            self._know(item)

    def observe(self, user_id: str | None, item_id: str | None, at: float) -> None:
        """Learn from one accepted event (``at``: its time, epoch seconds)."""
        if item_id is None:
            return
        self.now = max(self.now, at)
        self._know(item_id)
        before = self.counts.get(item_id, 0)
        if before:
            self._by_count.remove((-before, item_id))
            self.counts.move_to_end(item_id)
        self.counts[item_id] = before + 1
        self._by_count.add((-before - 1, item_id))
        self._total += 1
        self._warm(item_id, at)
        if user_id is None:
            return
        history = self.recent.get(user_id)
        if history is None:
            history = self.recent[user_id] = []
            if len(self.recent) > self.max_users:
                self.recent.popitem(last=False)
        else:
            self.recent.move_to_end(user_id)
        for other in dict.fromkeys(history):  # in order: a set's order changes per process
            if other != item_id and other in self.counts:
                self._link(item_id, other)
                self._link(other, item_id)
        history.append(item_id)
        if len(history) > self.recent_items:
            del history[0]

    def _warm(self, item: str, at: float) -> None:
        """Add one event at ``at`` to the item's heat and to the running total."""
        if self._origin is None:
            self._origin = at
        x = self._rate * (at - self._origin)
        heat = self._heat.get(item)
        if heat is None:
            new = x
        else:
            self._by_heat.remove((-heat, item))
            new = max(heat, x) + math.log1p(math.exp(-abs(heat - x)))
        self._heat[item] = new
        self._by_heat.add((-new, item))
        if x - self._heat_base > _REBASE:
            self._heat_total *= math.exp(self._heat_base - x)
            self._heat_base = x
        self._heat_total += math.exp(x - self._heat_base)

    def _know(self, item: str) -> None:
        slot = self.catalog.get(item)
        if slot is not None:
            self.catalog.move_to_end(item)
            return
        self.catalog[item] = len(self._pool)
        self._pool.append(item)
        if len(self.catalog) > self.max_items:
            self._forget_item(next(iter(self.catalog)))

    def _link(self, item: str, other: str) -> None:
        neighbours = self.links.get(item)
        if neighbours is None:
            neighbours = self.links[item] = {}
        elif other not in neighbours and len(neighbours) >= self.max_neighbours:
            # drop the weakest quarter at once (ties: the oldest link), so a popular item
            # pays one sort per max_neighbours / 4 new links, not a scan per link
            drop = max(1, self.max_neighbours // 4)
            order = sorted(enumerate(neighbours.items()), key=lambda e: (e[1][1], e[0]))
            for _, (weak, _count) in order[:drop]:
                del neighbours[weak]
        neighbours[other] = neighbours.get(other, 0) + 1

    def _forget_item(self, item: str) -> None:
        events = self.counts.pop(item, 0)
        if events:
            self._by_count.remove((-events, item))
            self._total -= events
        heat = self._heat.pop(item, None)
        if heat is not None:
            self._by_heat.remove((-heat, item))
            self._heat_total = max(0.0, self._heat_total - math.exp(heat - self._heat_base))
        slot = self.catalog.pop(item, None)
        if slot is not None:  # the last item takes the freed slot
            last = self._pool.pop()
            if last != item:
                self._pool[slot] = last
                self.catalog[last] = slot
        for other in self.links.pop(item, {}):
            self.links.get(other, {}).pop(item, None)

    # -- answering -----------------------------------------------------------------------

    def recommend(
        self,
        kind: str,
        *,
        user_id: str | None = None,
        item_id: str | None = None,
        n: int = 25,
        keep: Callable[[str], bool] | None = None,
        within: Collection[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Up to ``n`` (item, score) pairs, best first; scores of one answer sum to at most 1.

        ``keep`` (a filter) says which items may be shown; ``within``, when the allowed
        items are a small known set, lets popularity and trending rank those alone instead
        of reading their lists until ``n`` pass, so a filtered answer costs what it returns.
        """
        ok = keep or _everything
        if kind == "random":
            pool = (
                self._pool if within is None else [i for i in sorted(within) if i in self.catalog]
            )
            size = len(pool)
            slots = self._rng.sample(range(size), min(size, n if keep is None else 4 * n + 64))
            drawn = [pool[slot] for slot in slots if ok(pool[slot])][:n]
            if len(drawn) < n and len(slots) < size:  # a strict filter: the rest, shuffled
                rest = [i for i in pool if ok(i) and i not in set(drawn)]
                self._rng.shuffle(rest)
                drawn += rest[: n - len(drawn)]
            return [(item, 1.0 / size) for item in drawn]
        if kind in ("popularity", "trending"):
            return list(islice(self._ordered(kind, set(), ok, within), n))
        if kind == "similar-items":
            links = {k: c for k, c in self._neighbours(item_id).items() if ok(k)}
            if not links:  # an unknown item, or one never seen with another: what is popular
                return list(islice(self._ordered("popularity", {item_id}, ok, within), n))
            return _best(links, n, {item_id}, sum(links.values()))
        if kind == "user-personalization":
            history = self.recent.get(user_id or "", ())
            found = {k: s for k, s in self._personal(history).items() if ok(k)}
            seen = set(history)
            chosen = _best(found, n, seen, sum(found.values()))
            if len(chosen) < n:  # fill from what is trending
                seen.update(item for item, _ in chosen)
                fill = islice(self._ordered("trending", seen, ok, within), n - len(chosen))
                chosen += [(item, 0.0) for item, _ in fill]
            return chosen
        raise ConfigError("kind", kind, f"one of {', '.join(KINDS)}")

    def _ordered(
        self, kind: str, exclude: set[Any], ok: Callable[[str], bool], within: Any
    ) -> Iterator[tuple[str, float]]:
        """Items by popularity or trending, best first, that ``ok`` keeps."""
        if kind == "popularity":
            total = self._total or 1
            if within is not None:  # rank the allowed items alone (ties by item id)
                held = [(-self.counts[i], i) for i in within if i in self.counts]
                return ((i, -c / total) for c, i in sorted(held) if i not in exclude and ok(i))
            return ((i, -c / total) for c, i in self._by_count if i not in exclude and ok(i))
        base, heat_total = self._heat_base, self._heat_total or 1.0
        order = self._by_heat
        if within is not None:
            order = sorted((-self._heat[i], i) for i in within if i in self._heat)
        return (
            (i, math.exp(-key - base) / heat_total)
            for key, i in order
            if i not in exclude and ok(i)
        )

    def _neighbours(self, item_id: str | None) -> dict[str, int]:
        """The item's links to items still held (a forgotten item may linger one way)."""
        links = self.links.get(item_id or "", {})
        counts = self.counts
        return {other: c for other, c in links.items() if other in counts}

    def _personal(self, history: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        counts = self.counts
        for age, seen in enumerate(reversed(history)):
            weight = 0.5**age  # the latest item counts most
            for other, c in self.links.get(seen, {}).items():
                if other in counts:
                    found[other] = found.get(other, 0.0) + weight * c
        return found

    def scores(
        self, kind: str, *, user_id: str | None = None, item_id: str | None = None
    ) -> dict[str, float]:
        """The raw score of every candidate item (only items someone interacted with).

        For looking at a model: it visits every item held; answers never call it.
        """
        if kind == "popularity":
            return {item: float(c) for item, c in self.counts.items()}
        if kind == "trending":
            shift = self._rate * (self.now - (self._origin or 0.0))
            return {item: math.exp(heat - shift) for item, heat in self._heat.items()}
        if kind == "similar-items":
            links = self._neighbours(item_id)
            return {k: float(c) for k, c in links.items()} if links else self.scores("popularity")
        if kind == "user-personalization":
            return self._personal(self.recent.get(user_id or "", ()))
        if kind == "random":
            return dict.fromkeys(self.catalog, 1.0)
        raise ConfigError("kind", kind, f"one of {', '.join(KINDS)}")

    def rank(
        self,
        kind: str,
        user_id: str,
        items: Sequence[str],
        keep: Callable[[str], bool] | None = None,
    ) -> list[tuple[str, float]]:
        """``items`` in the model's order; items it does not know go last, in input order.

        ``user-personalization`` ranks the user's co-occurrence neighbours first, then
        every other item someone interacted with by trending (a user with no history
        gets trending alone); only items nobody interacted with go last. ``random``
        knows every item in the catalog and shuffles them. Items ``keep`` refuses are left out.
        """
        items = items if keep is None else [i for i in items if keep(i)]
        if kind == "random":
            known = [i for i in items if i in self.catalog]
            self._rng.shuffle(known)
            unknown = [i for i in items if i not in self.catalog]
            return [(i, 1.0 / len(known)) for i in known] + [(i, 0.0) for i in unknown]
        if kind == "user-personalization":
            personal = self._personal(self.recent.get(user_id, ()))
        elif kind == "trending":
            personal = {i: self._heat[i] for i in items if i in self._heat}
        else:  # popularity, and similar-items without an item: what is popular
            personal = {i: float(self.counts[i]) for i in items if i in self.counts}
        known = [i for i in items if i in self.counts]
        if kind == "user-personalization":  # then trending, as GetRecommendations fills up
            heat = self._heat
            known.sort(key=lambda i: (-personal.get(i, -math.inf), -heat.get(i, -math.inf)))
        else:  # a stable sort: ties keep their input order
            known.sort(key=lambda i: -personal[i])
        unknown = [i for i in items if i not in self.counts]
        if kind == "trending":  # a share of the ranked items' decayed mass
            top = max((personal[i] for i in known), default=0.0)
            personal = {i: math.exp(h - top) for i, h in personal.items()}
        total = sum(personal.get(i, 0.0) for i in known) or 1.0
        ranked = [(i, personal.get(i, 0.0) / total) for i in known]
        return ranked + [(i, 0.0) for i in unknown]


def _everything(item: str) -> bool:
    return True


def _best(
    scores: dict[str, Any], n: int, exclude: set[Any], total: float
) -> list[tuple[str, float]]:
    """The ``n`` best (item, score / total) not in ``exclude``, ties broken by item id so
    answers replay."""
    best = heapq.nsmallest(n + len(exclude), scores.items(), key=lambda pair: (-pair[1], pair[0]))
    total = total or 1.0
    return [(item, s / total) for item, s in best if item not in exclude][:n]
