"""Event ids: kept where given, elsewhere derived from the event's content.

The id is a 128-bit hash of the row (hex), plus ``-1``, ``-2``… for the second, third…
identical row, so converting the same frame twice gives the same ids and a resend is
idempotent:

>>> import numpy as np
>>> from ._events import Events
>>> events = Events(3, sent_us=np.array([1, 1, 2]))
>>> for name in ("sessionId", "userId", "eventType", "itemId", "properties",
...              "recommendationId", "metricAttribution", "eventId"):
...     events.set_field(name, np.array(["x", "x", "x"] if name == "eventType" else [None] * 3,
...                                     dtype=object))
>>> events.set_field("impression", np.full(3, None, dtype=object))
>>> events.fields["eventValue"] = np.full(3, np.nan)
>>> ids = event_ids(events)
>>> [len(i) for i in ids], ids[1] == ids[0] + "-1", ids[2] == ids[0]
([32, 34, 32], True, False)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from .._schema import IMPRESSION_SEPARATOR
from ._events import Events

__all__ = ["event_ids"]

_KEYS = ("personalize-sim1", "personalize-sim2")  # one 64-bit hash each: 128 bits
_TEXT_FIELDS = (
    "sessionId",
    "userId",
    "eventType",
    "itemId",
    "properties",
    "recommendationId",
    "metricAttribution",
)


def event_ids(events: Events) -> np.ndarray:
    """Keep given ids; derive the rest from the event's content (128-bit hash, hex).

    Each value is hashed once per distinct value and the columns are folded row by
    row, so the id of a row depends on that row alone (and, for identical rows, on
    how many came before it).
    """
    given = events.fields["eventId"]
    missing = ~events.present["eventId"]
    if not missing.any():
        return given
    digests = [np.full(int(missing.sum()), 0xCBF29CE484222325, dtype=np.uint64) for _ in _KEYS]

    def fold(hashes: Iterable[np.ndarray]) -> None:  # FNV-1a, a column at a time
        for i, hashed in enumerate(hashes):
            digests[i] = (digests[i] ^ hashed) * np.uint64(0x100000001B3)

    for name in _TEXT_FIELDS:
        codes, uniques = events.factorized(name)
        fold(_text_hashes(codes[missing], uniques, _KEYS))
    codes, uniques = _joined_impressions(events, missing)
    fold(_text_hashes(codes, uniques, _KEYS))
    for column in (events.sent_us[missing], events.fields["eventValue"][missing]):
        fold(pd.util.hash_array(column, hash_key=key) for key in _KEYS)
    out = given.copy()
    out[missing] = _hex_ids([_avalanche(d) for d in digests])
    return out


def _joined_impressions(events: Events, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) of the impressions of ``rows``, each joined with ``|``."""
    impressions = events.fields["impression"][rows]
    listed = events.present["impression"][rows]
    joined = np.full(len(impressions), None, dtype=object)
    joined[listed] = [IMPRESSION_SEPARATOR.join(v) for v in impressions[listed]]
    codes, uniques = pd.factorize(joined)
    return codes, np.asarray(uniques, dtype=object)


def _hex_ids(halves: list[np.ndarray]) -> np.ndarray:
    """32 hex characters per row; repeats of a digest get ``-1``, ``-2``… in row order."""
    text = np.stack(halves, axis=1).astype(">u8").tobytes().hex()
    ids = np.array([text[i : i + 32] for i in range(0, len(text), 32)], dtype=object)
    if pd.Series(halves[0]).duplicated().any():
        repeat = pd.Series(halves[0]).groupby(halves[0]).cumcount().to_numpy()
        again = repeat > 0
        ids[again] = [f"{i}-{r}" for i, r in zip(ids[again], repeat[again], strict=True)]
    return ids


def _text_hashes(
    codes: np.ndarray, uniques: np.ndarray, keys: Sequence[str]
) -> Iterator[np.ndarray]:
    """64-bit hashes of factorized text, one array per key; a null (code -1) hashes alike."""
    for key in keys:
        hashed = (
            pd.util.hash_array(uniques, hash_key=key, categorize=False) if len(uniques) else uniques
        )
        yield np.append(hashed.astype(np.uint64), np.uint64(0x9E3779B97F4A7C15))[codes]


def _avalanche(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
