"""The frame's events as plain arrays, keyed by API field name: what requests are built from.

>>> import numpy as np
>>> events = Events(2)
>>> events.set_field("itemId", np.array(["i1", None], dtype=object))
>>> events.present["itemId"].tolist(), events.lengths["itemId"].tolist()
([True, False], [2, 0])
>>> codes, uniques = events.factorized("itemId")
>>> codes.tolist(), uniques.tolist()
([0, -1], ['i1'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._columns import lengths, present

__all__ = ["Events"]


@dataclass
class Events:
    """Events as arrays: one entry per frame row, in frame order.

    ``fields`` holds every API field by name (``sessionId``, ``userId``, ``eventId``,
    ``eventType``, ``itemId``…): object arrays with None where absent, except
    ``eventValue`` (floats, NaN where absent); ``sent_us`` holds ``sentAt`` as int64
    epoch microseconds.
    """

    n: int
    sent_us: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    fields: dict[str, np.ndarray] = field(default_factory=dict)
    lengths: dict[str, np.ndarray] = field(default_factory=dict)  # characters of text fields
    present: dict[str, np.ndarray] = field(default_factory=dict)  # mask of non-null values
    typed: dict[str, pd.Series] = field(default_factory=dict)  # text columns with a string dtype
    _codes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def set_field(
        self,
        name: str,
        values: np.ndarray,
        given: np.ndarray | None = None,
        chars: np.ndarray | None = None,
    ) -> None:
        """Store a text field; its presence mask and lengths are computed unless given."""
        self.fields[name] = values
        self.present[name] = present(values) if given is None else given
        self.lengths[name] = lengths(values, self.present[name]) if chars is None else chars
        self._codes.pop(name, None)

    def factorized(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct values) of a text field, -1 coding a null; computed once."""
        if name not in self._codes:
            if name in self.typed:  # Arrow-backed text factorizes twice as fast
                codes, uniques = self.typed[name].array.factorize()
                self._codes[name] = np.asarray(codes), np.asarray(uniques, dtype=object)
            elif self.present[name].any():
                codes, uniques = pd.factorize(self.fields[name])
                self._codes[name] = codes, np.asarray(uniques, dtype=object)
            else:
                self._codes[name] = np.full(self.n, -1, dtype=np.intp), np.empty(0, dtype=object)
        return self._codes[name]
