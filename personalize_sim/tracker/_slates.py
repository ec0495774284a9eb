"""A slate's business rules: promotions and item metadata, as the runtime API applies them.

Promotions ("Promoting items in real-time recommendations",
https://docs.aws.amazon.com/personalize/latest/dg/promoting-items.html): a share of the
slate (``percentPromotedItems`` of ``numResults``, rounded half up) comes from the
promotion's filter, the request filter applying only to the other items; promoted items
are "positioned randomly relative to other recommended items, but in sorted order
relative to other promoted items", and each carries ``promotionName``; with too few
items meeting the promotion, the slate holds as many as there are. ``metadataColumns``
(``{"ITEMS": [COLUMN, ...]}``, at most :func:`max_metadata_columns`, read from botocore's
documentation of the member) returns each item's values under the lower-cased column
names, as text (multi-value fields as sent, ``"a|b"``); a column an item lacks is left out.

>>> slate = place([("a", 0.5), ("b", 0.3)], [("p", 0.1)], "promo", random.Random(0))
>>> [(entry["itemId"], entry.get("promotionName")) for entry in slate]
[('a', None), ('p', 'promo'), ('b', None)]
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence
from typing import Any

from ._filter_index import DatasetIndex

__all__ = ["max_metadata_columns", "metadata_of", "place", "promoted_count", "rounded"]

_MAXIMUM_COLUMNS = re.compile(r"maximum number of columns you can provide is (\d+)")


def rounded(score: float) -> float:
    """7 decimals as the service gives them (scores are >= 0: half up, without round())."""
    return int(score * 1e7 + 0.5) / 1e7


@functools.cache
def max_metadata_columns() -> int:
    """ "The maximum number of columns you can provide is 10" (botocore's documentation).

    >>> max_metadata_columns()
    10
    """
    from personalize_sim.limits import member_documentation

    text = member_documentation("GetRecommendations", "metadataColumns", "personalize-runtime")
    found = _MAXIMUM_COLUMNS.findall(text)
    if len(found) != 1:  # a botocore whose wording changed: fail loudly, never guess
        raise RuntimeError("cannot read the metadataColumns maximum from botocore")
    return int(found[0])


def promoted_count(n: int, percent: int) -> int:
    """Promoted places in a slate of ``n``: ``percent`` of it, rounded half up.

    >>> promoted_count(25, 10), promoted_count(10, 50), promoted_count(3, 10)
    (3, 5, 0)
    """
    return (n * percent * 2 + 100) // 200


def place(
    ranked: Sequence[tuple[str, float]],
    promoted: Sequence[tuple[str, float]],
    name: str | None,
    rng: random.Random,
) -> list[dict[str, Any]]:
    """The slate's entries: ``promoted`` at random places among ``ranked``, in their order."""
    size = len(ranked) + len(promoted)
    slots = set(rng.sample(range(size), len(promoted)))
    entries: list[dict[str, Any]] = []
    rest, promo = iter(ranked), iter(promoted)
    for slot in range(size):
        if slot in slots:
            item, score = next(promo)
            entry = {"itemId": item, "score": rounded(score)}
            if name is not None:
                entry["promotionName"] = name
        else:
            item, score = next(rest)
            entry = {"itemId": item, "score": rounded(score)}
        entries.append(entry)
    return entries


def metadata_of(items: DatasetIndex, item_id: str, columns: Sequence[str]) -> dict[str, str]:
    """The item's values of ``columns`` (dataset column names), keyed in lower case."""
    import orjson

    found = items.properties.get(item_id, {})
    metadata = {}
    for column in columns:
        value = found.get(column.upper())
        if value is not None:
            metadata[column.lower()] = (
                value if isinstance(value, str) else orjson.dumps(value).decode()
            )
    return metadata
