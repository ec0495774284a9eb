"""Recommenders that learn from an event stream as it arrives: the emulator's runtime models.

The local tracker answers ``GetRecommendations`` / ``GetPersonalizedRanking`` from
these, and the closed-loop simulator calls them in-process for speed; they sit at the
base of the layers so both can (``simulation`` may not import ``tracker``).

Kinds (:data:`KINDS`), each honest and simple:

``popularity``            all-time count of events per item
``trending``              counts decayed with a half-life (``half_life``), in event time
``similar-items``         item-to-item co-occurrence in users' recent histories (needs ``itemId``)
``user-personalization``  the co-occurrence neighbours of the user's recent items, recency
                          weighted, the user's own recent items left out; trending fills up
``random``                uniform over every item the models know (events and PutItems)

Update semantics (:meth:`OnlineModels.observe`): an event with an ``itemId`` counts at
once (real time, as Personalize's event tracker feeds its models): the item's count and
decayed count, the user's recent items (the last ``recent_items``), and one
co-occurrence between the item and each of the user's earlier recent items. An event
without an item or a user changes only what it can. Memory is bounded: at most
``max_items`` items (the least recently active goes first, taking its links), at most
``max_users`` users (least recently active first), ``max_neighbours`` links per item
(the weakest is dropped for a new one). An item nobody interacted with has no count
and no link: ``popularity``, ``trending``, ``similar-items`` and ``user-personalization``
never recommend it; only ``random`` explores it.

>>> models = OnlineModels(rng=0)
>>> for user, item in [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "c"), ("u3", "a")]:
...     models.observe(user, item, 0.0)
>>> [item for item, _ in models.recommend("popularity", n=2)]
['a', 'b']
>>> [item for item, _ in models.recommend("similar-items", item_id="b")]
['a']
>>> [item for item, _ in models.recommend("user-personalization", user_id="u1")]
['c']
"""

from __future__ import annotations

import heapq
import math
import random
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._checks import count, one_of, positive
from .errors import ConfigError

__all__ = ["KINDS", "OnlineModels", "RecommenderSpec"]

KINDS = ("popularity", "trending", "similar-items", "user-personalization", "random")
#: what a request to each kind must carry: a user, an item, or either
_NEEDS = {
    "popularity": None,
    "trending": None,
    "similar-items": "itemId",
    "user-personalization": "userId",
    "random": None,
}
_ACCOUNT = "000000000000"
_REGION = "us-east-1"


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
        one_of(self.kind, f"recommender {self.name!r} kind", KINDS)
        one_of(self.resource, f"recommender {self.name!r} resource", ("recommender", "campaign"))
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ConfigError("recommender name", self.name, "letters, digits, - and _")

    @property
    def arn(self) -> str:
        return f"arn:aws:personalize:{_REGION}:{_ACCOUNT}:{self.resource}/{self.name}"

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
            raise ConfigError("recommender", spec, f"NAME=KIND with KIND one of {', '.join(KINDS)}")
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
        max_items: int = 100_000,
        max_users: int = 100_000,
        max_neighbours: int = 100,
        rng: int | None = None,
    ) -> None:
        self.half_life = positive(half_life, "half_life")
        self.recent_items = count(recent_items, "recent_items", low=1)
        self.max_items = count(max_items, "max_items", low=1)
        self.max_users = count(max_users, "max_users", low=1)
        self.max_neighbours = count(max_neighbours, "max_neighbours", low=1)
        self._rate = math.log(2) / self.half_life
        self.counts: OrderedDict[str, int] = OrderedDict()  # item -> events; LRU order
        self._decayed: dict[str, tuple[float, float]] = {}  # item -> (value, at time)
        self.links: dict[str, dict[str, int]] = {}  # item -> neighbour -> co-occurrences
        self.recent: OrderedDict[str, deque[str]] = OrderedDict()  # user -> recent items
        self.catalog: OrderedDict[str, None] = OrderedDict()  # items known, cold ones too
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
        self.counts[item_id] = self.counts.get(item_id, 0) + 1
        self.counts.move_to_end(item_id)
        value, then = self._decayed.get(item_id, (0.0, at))
        self._decayed[item_id] = (value * math.exp(-self._rate * max(0.0, at - then)) + 1, at)
        if len(self.counts) > self.max_items:
            self._forget_item(next(iter(self.counts)))
        if user_id is None:
            return
        history = self.recent.get(user_id)
        if history is None:
            history = self.recent[user_id] = deque(maxlen=self.recent_items)
            if len(self.recent) > self.max_users:
                self.recent.popitem(last=False)
        self.recent.move_to_end(user_id)
        for other in set(history):
            if other != item_id and other in self.counts:
                self._link(item_id, other)
                self._link(other, item_id)
        history.append(item_id)

    def _know(self, item: str) -> None:
        self.catalog[item] = None
        self.catalog.move_to_end(item)
        if len(self.catalog) > self.max_items:
            self._forget_item(next(iter(self.catalog)))

    def _link(self, item: str, other: str) -> None:
        neighbours = self.links.setdefault(item, {})
        if other not in neighbours and len(neighbours) >= self.max_neighbours:
            weakest = min(neighbours, key=neighbours.__getitem__)
            del neighbours[weakest]
        neighbours[other] = neighbours.get(other, 0) + 1

    def _forget_item(self, item: str) -> None:
        self.counts.pop(item, None)
        self.catalog.pop(item, None)
        self._decayed.pop(item, None)
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
    ) -> list[tuple[str, float]]:
        """Up to ``n`` (item, score) pairs, best first; scores of one answer sum to at most 1."""
        if kind == "random":
            items = list(self.catalog)
            picked = self._rng.sample(items, min(n, len(items)))
            return [(item, 1.0 / max(len(items), 1)) for item in picked]
        scores = self.scores(kind, user_id=user_id, item_id=item_id)
        exclude: set[str | None] = set()
        if kind == "user-personalization":
            exclude.update(self.recent.get(user_id or "", ()))
        elif kind == "similar-items":
            exclude.add(item_id)
        best = _top(scores, n + len(exclude))
        chosen = [(item, s) for item, s in best if item not in exclude][:n]
        if kind == "user-personalization" and len(chosen) < n:  # fill from what is trending
            seen = exclude | {item for item, _ in chosen}
            trending = self.scores("trending")
            fill = _top(trending, n + len(seen))
            chosen += [(i, 0.0) for i, _ in fill if i not in seen][: n - len(chosen)]
        total = sum(scores.values()) or 1.0
        return [(item, s / total) for item, s in chosen]

    def scores(
        self, kind: str, *, user_id: str | None = None, item_id: str | None = None
    ) -> dict[str, float]:
        """The raw score of every candidate item (only items someone interacted with)."""
        if kind == "popularity":
            return {item: float(c) for item, c in self.counts.items()}
        if kind == "trending":
            rate, now = self._rate, self.now
            return {i: v * math.exp(-rate * (now - t)) for i, (v, t) in self._decayed.items()}
        if kind == "similar-items":
            if item_id is None or not self.links.get(item_id):
                return self.scores("popularity")  # an unknown item: what is popular
            return {other: float(c) for other, c in self.links[item_id].items()}
        if kind == "user-personalization":
            found: dict[str, float] = {}
            history = self.recent.get(user_id or "", ())
            for age, seen in enumerate(reversed(history)):
                weight = 0.5**age  # the latest item counts most
                for other, c in self.links.get(seen, {}).items():
                    found[other] = found.get(other, 0.0) + weight * c
            return found
        if kind == "random":
            return dict.fromkeys(self.catalog, 1.0)
        raise ConfigError("kind", kind, f"one of {', '.join(KINDS)}")

    def rank(self, kind: str, user_id: str, items: Sequence[str]) -> list[tuple[str, float]]:
        """``items`` in the model's order; items it does not know go last, in input order."""
        scores = self.scores(kind, user_id=user_id)
        if kind == "random":
            known = [i for i in items if i in scores]
            self._rng.shuffle(known)
        else:
            known = sorted((i for i in items if i in scores), key=lambda i: -scores[i])
        unknown = [i for i in items if i not in scores]
        total = sum(scores.get(i, 0.0) for i in known) or 1.0
        return [(i, scores[i] / total) for i in known] + [(i, 0.0) for i in unknown]


def _top(scores: dict[str, float], n: int) -> list[tuple[str, float]]:
    """The ``n`` best (item, score), ties broken by item id so answers replay."""
    return heapq.nsmallest(n, scores.items(), key=lambda pair: (-pair[1], pair[0]))
