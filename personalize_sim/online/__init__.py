"""Recommenders that learn from an event stream as it arrives: the emulator's runtime models.

The local tracker answers ``GetRecommendations`` / ``GetPersonalizedRanking`` from
these, and the closed-loop simulator calls them in-process for speed; they sit at the
base of the layers so both can (``simulation`` may not import ``tracker``).

Kinds (:data:`KINDS`), each honest and simple::

  ``popularity``            all-time count of events per item
  ``trending``              counts decayed with a half-life (``half_life``), in event time
  ``similar-items``         item-to-item co-occurrence in users' recent histories (needs ``itemId``)
  ``user-personalization``  the co-occurrence neighbours of the user's recent items, recency
                            weighted, the user's own recent items left out; trending fills up
  ``random``                uniform over every item the models know (events and PutItems)
  ``personalized-actions``  next best action (GetActionRecommendations, a campaign; the
                            emulator's take-rate model, not :class:`OnlineModels`)

Update semantics (:meth:`OnlineModels.observe`): an event with an ``itemId`` counts at
once (real time, as Personalize's event tracker feeds its models): the item's count and
decayed count, the user's recent items (the last ``recent_items``), and one
co-occurrence between the item and each of the user's earlier recent items. An event
without an item or a user changes only what it can. Memory is bounded: at most
``max_items`` items (the least recently active goes first, taking its links), at most
``max_users`` users (least recently active first), ``max_neighbours`` links per item
(for a new one, the weakest quarter is dropped, the oldest first among equals). An item
nobody interacted with has no count and no link: ``popularity``, ``trending``,
``similar-items`` and ``user-personalization`` never recommend it; only ``random`` explores it.

Answers cost what they return, not what the models hold: popularity and trending keep
sorted lists (O(log items) per event; a trending score is the log of its decayed mass
referred to a fixed time, an order time does not change), read off the front;
``similar-items`` reads one item's links, ``user-personalization`` those of the user's
recent items, ``random`` samples slots. Ties rank by item id, so answers replay.
``benchmarks/runtime.py`` measures them at a million items and users.

>>> models = OnlineModels(rng=0)
>>> for user, item in [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "c"), ("u3", "a")]:
...     models.observe(user, item, 0.0)
>>> [item for item, _ in models.recommend("popularity", n=2)]
['a', 'b']
>>> [item for item, _ in models.recommend("similar-items", item_id="b")]
['a']
>>> [item for item, _ in models.recommend("user-personalization", user_id="u1")]
['c']
>>> [item for item, _ in models.rank("user-personalization", "nobody", ["new", "c", "a"])]
['a', 'c', 'new']
"""

from __future__ import annotations

from .._public import expose
from ._models import KINDS, OnlineModels, RecommenderSpec

__all__ = ["KINDS", "OnlineModels", "RecommenderSpec"]

expose(__name__, globals(), __all__)
