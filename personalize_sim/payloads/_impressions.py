"""``IMPRESSION``: lists of item ids, from lists or ``|``-separated strings (as in bulk CSV).

>>> import pandas as pd
>>> from ._problems import ProblemReport
>>> lists, chars = impressions(pd.Series([["a", "bc"], "d|e", "", None]), "IMPRESSION",
...                            ProblemReport())
>>> lists.tolist(), chars.tolist()
([['a', 'bc'], ['d', 'e'], None, None], [9, 8, 0, 0])
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .. import limits
from .._schema import IMPRESSION_SEPARATOR
from ._columns import as_objects, lengths, present
from ._problems import ProblemReport

__all__ = ["impressions"]


def impressions(
    series: pd.Series, name: str, problems: ProblemReport
) -> tuple[np.ndarray, np.ndarray]:
    """Lists of item ids (or None), and each row's characters (items plus separators).

    The items of all rows are checked as one flat array, not row by row.
    """
    limit = limits.operation_limits("PutEvents").field("eventList[].impression")
    values = as_objects(series)
    out = _as_lists(values, name, problems)
    listed = present(out)
    counts = np.zeros(len(out), dtype=np.int64)
    chars = np.zeros(len(out), dtype=np.int64)
    if listed.any():
        counts[listed] = np.fromiter(map(len, out[listed]), dtype=np.int64, count=int(listed.sum()))
        chars, not_text = _check_items(out[listed], counts, values, name, problems)
        for i in np.flatnonzero(not_text).tolist():  # reported; as text, so ids can hash the row
            out[i] = [x if type(x) is str else repr(x) for x in out[i]]
    if limit.min:
        problems.add(
            listed & (counts < limit.min), name, "too_few", counts, f"items >= {limit.min}"
        )
    if limit.max is not None:
        problems.add(counts > limit.max, name, "too_many", counts, f"items <= {limit.max}")
    return out, chars


def _as_lists(values: np.ndarray, name: str, problems: ProblemReport) -> np.ndarray:
    """Each value as a list (None where absent or empty); other types are reported."""
    n = len(values)
    out = np.full(n, None, dtype=object)
    wrong = np.zeros(n, dtype=bool)
    given = np.flatnonzero(present(values))
    if all(type(v) is list for v in values[given]):  # the usual case: nothing to convert
        out[given] = values[given]
        given = given[:0]
    for i in given.tolist():
        v = values[i]
        if isinstance(v, list):
            out[i] = v
        elif isinstance(v, str):
            out[i] = v.split(IMPRESSION_SEPARATOR) if v else None
        elif isinstance(v, tuple | np.ndarray):
            out[i] = list(v)
        else:
            wrong[i] = True
    problems.add(wrong, name, "wrong_type", values, "list of item ids or '|'-separated string")
    return out


def _check_items(
    lists: np.ndarray, counts: np.ndarray, values: np.ndarray, name: str, problems: ProblemReport
) -> tuple[np.ndarray, np.ndarray]:
    """Check every item id of the ``lists`` at once; return each row's characters, and
    which rows hold an item that is not a string."""
    item = limits.operation_limits("PutEvents").field("eventList[].impression[]")
    n = len(counts)
    flat = np.empty(int(counts.sum()), dtype=object)
    flat[:] = list(itertools.chain.from_iterable(lists))
    owner = np.repeat(np.arange(n), counts)  # the row of each flat item
    if pd.api.types.infer_dtype(flat, skipna=False) in ("string", "empty"):
        text = np.ones(len(flat), dtype=bool)
    else:
        text = np.fromiter((type(x) is str for x in flat), dtype=bool, count=len(flat))
    item_chars = lengths(flat, text)
    short = ~text | (item_chars < (item.min or 0))
    long = text & (item_chars > (item.max if item.max is not None else np.inf))
    for bad, reason, rule in (
        (short, "bad_item", f"item ids are strings of length >= {item.min}"),
        (long, "too_long", f"item length <= {item.max}"),
    ):
        if bad.any():
            problems.add(np.isin(np.arange(n), owner[bad]), name, reason, values, rule)
    chars = np.bincount(owner, weights=item_chars + 3, minlength=n).astype(np.int64)
    not_text = np.zeros(n, dtype=bool)
    not_text[owner[~text]] = True
    return chars, not_text
