"""The emulator's next best action, learnt online: :class:`OnlineActions`.

Each action's take rate is ``(taken + 1) / (viewed + 2)`` (a uniform prior, so a new action
is tried), counting the ``Taken`` and ``Viewed`` action interactions as they arrive (event
types matched without case, as Personalize matches them); actions the user took lately are
left out, and ties rank by action id, so answers replay.

>>> actions = OnlineActions()
>>> actions.add_actions(["a", "b", "c"])
>>> for user, action, kind in [("u1", "a", "Viewed"), ("u1", "b", "Taken"), ("u2", "b", "Taken")]:
...     actions.observe(user, action, kind)
>>> [action for action, _ in actions.recommend(user_id="u2", n=2)]
['c', 'a']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable

__all__ = ["OnlineActions"]


class OnlineActions:
    """Take rates of every known action, and each user's recently taken actions."""

    def __init__(self, *, recent: int = 20) -> None:
        self.taken: dict[str, int] = {}
        self.viewed: dict[str, int] = {}
        self.recent_taken: OrderedDict[str, list[str]] = OrderedDict()
        self.recent = recent

    def add_actions(self, actions: Iterable[str]) -> None:
        """Actions known from PutActions (or the actions dataset)."""
        for action in actions:
            self.taken.setdefault(action, 0)
            self.viewed.setdefault(action, 0)

    def observe(self, user_id: str | None, action_id: str, event_type: str) -> None:
        self.add_actions([action_id])
        kind = event_type.lower()
        if kind in ("taken", "viewed", "not taken"):
            self.viewed[action_id] += 1  # taken or not, the action was shown
        if kind == "taken":
            self.taken[action_id] += 1
            if user_id is not None:
                history = self.recent_taken.setdefault(user_id, [])
                history.append(action_id)
                del history[: -self.recent]

    def recommend(
        self, *, user_id: str | None = None, n: int = 5, keep: Callable[[str], bool] | None = None
    ) -> list[tuple[str, float]]:
        """Up to ``n`` (action, take rate) pairs, best first."""
        skip = set(self.recent_taken.get(user_id or "", ()))
        rates = [
            (-(self.taken[a] + 1) / (self.viewed[a] + 2), a)
            for a in self.taken
            if a not in skip and (keep is None or keep(a))
        ]
        return [(a, round(-rate, 7)) for rate, a in sorted(rates)[:n]]
