"""Who gets the credit for each event: Personalize's documented precedence, vectorised.

1. an explicit ``EVENT_ATTRIBUTION_SOURCE`` wins;
2. otherwise the recommender (or campaign) that issued the ``RECOMMENDATION_ID``;
3. otherwise ``SOURCE_NAME_UNDEFINED`` (an id no recommender issued lands here too,
   counted apart as *unmapped*).

>>> import pandas as pd
>>> events = pd.DataFrame({"EVENT_ATTRIBUTION_SOURCE": ["mine", None, None, None],
...                        "RECOMMENDATION_ID": ["r1", "r1", "r9", None]})
>>> found = resolve_sources(events, recommendation_map({"r1": "arn:rec/a"}))
>>> [found.names[c] for c in found.codes]
['mine', 'arn:rec/a', 'SOURCE_NAME_UNDEFINED', 'SOURCE_NAME_UNDEFINED']
>>> found.unmapped.tolist()
[False, False, True, False]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, ConfigTypeError
from ._metrics import SOURCE_NAME_UNDEFINED

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Sources", "recommendation_map", "resolve_sources"]

_ARN_COLUMNS = ("RECOMMENDER_ARN", "CAMPAIGN_ARN", "EVENT_ATTRIBUTION_SOURCE", "SOURCE")
_RECOMMENDERS = (
    "a mapping RECOMMENDATION_ID -> recommender ARN, a Series indexed by RECOMMENDATION_ID, "
    f"or a DataFrame with RECOMMENDATION_ID and one of {', '.join(_ARN_COLUMNS)}"
)


@dataclass(frozen=True, eq=False)
class Sources:
    """Each event's source as a code into ``names`` (``names[undefined]`` is
    SOURCE_NAME_UNDEFINED), and which events carried an id no recommender issued."""

    codes: np.ndarray  # int64 per event
    names: list[str]
    undefined: int
    unmapped: np.ndarray  # bool per event


def recommendation_map(recommenders: Any) -> pd.Series:
    """``recommenders`` as a Series: RECOMMENDATION_ID -> source (the recommender's ARN)."""
    import pandas as pd

    if recommenders is None:
        return pd.Series([], dtype=object)
    if isinstance(recommenders, pd.DataFrame):
        found = [c for c in _ARN_COLUMNS if c in recommenders.columns]
        if "RECOMMENDATION_ID" not in recommenders.columns or not found:
            raise ConfigError("recommenders", recommenders, _RECOMMENDERS)
        series = pd.Series(
            recommenders[found[0]].to_numpy(dtype=object),
            index=recommenders["RECOMMENDATION_ID"].astype(str).to_numpy(),
        )
    elif isinstance(recommenders, pd.Series):
        series = recommenders
    elif isinstance(recommenders, Mapping):
        series = pd.Series(dict(recommenders), dtype=object)
    else:
        raise ConfigTypeError("recommenders", recommenders, _RECOMMENDERS)
    if series.index.has_duplicates:
        rec_id = series.index[series.index.duplicated()][0]
        raise ConfigError("recommenders", rec_id, "one recommender per RECOMMENDATION_ID")
    # vectorised checks (a simulated run maps millions of ids): strings, not blank
    if len(series) and pd.api.types.infer_dtype(series, skipna=False) != "string":
        strings = series.map(lambda v: isinstance(v, str))  # the rare path: find the culprit
        rec_id = series.index[~strings.to_numpy(dtype=bool)][0]
        raise ConfigError(f"recommenders[{rec_id!r}]", series[rec_id], "a non-empty source name")
    blank = series.astype("string").str.strip().str.len().to_numpy() == 0
    if blank.any():
        rec_id = series.index[blank][0]
        raise ConfigError(f"recommenders[{rec_id!r}]", series[rec_id], "a non-empty source name")
    return series


def resolve_sources(events: pd.DataFrame, recommenders: pd.Series) -> Sources:
    """The source of every row of ``events`` (see the module docstring)."""
    import pandas as pd

    n = len(events)
    explicit_codes, explicit_names = _factorized(events, "EVENT_ATTRIBUTION_SOURCE", n)
    rec_codes, rec_ids = _factorized(events, "RECOMMENDATION_ID", n)
    # each distinct id -> its source, as a code into the few distinct mapped sources
    mapped = recommenders.reindex(rec_ids) if len(rec_ids) else recommenders.iloc[:0]
    mapped_codes, mapped_names = pd.factorize(mapped, use_na_sentinel=True)
    names: list[str] = []
    index: dict[str, int] = {}

    def code_of(name: str) -> int:
        if name not in index:
            index[name] = len(names)
            names.append(name)
        return index[name]

    explicit_to = np.array([code_of(str(v)) for v in explicit_names], dtype=np.int64)
    mapped_to = np.array([code_of(str(v)) for v in mapped_names], dtype=np.int64)
    rec_to = np.where(mapped_codes >= 0, mapped_to[np.maximum(mapped_codes, 0)], -1)
    if not len(mapped_to):
        rec_to = np.full(len(mapped_codes), -1, dtype=np.int64)
    undefined = code_of(SOURCE_NAME_UNDEFINED)
    codes = np.full(n, undefined, dtype=np.int64)
    has_explicit = explicit_codes >= 0
    codes[has_explicit] = explicit_to[explicit_codes[has_explicit]]
    by_rec = ~has_explicit & (rec_codes >= 0)
    via = np.full(n, -1, dtype=np.int64)
    if len(rec_to):
        via[by_rec] = rec_to[rec_codes[by_rec]]
    known = by_rec & (via >= 0)
    codes[known] = via[known]
    return Sources(codes=codes, names=names, undefined=undefined, unmapped=by_rec & (via < 0))


def _factorized(events: pd.DataFrame, column: str, n: int) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1: missing or blank) and distinct values (an Index) of an optional column."""
    import pandas as pd

    if column not in events.columns:
        return np.full(n, -1, dtype=np.int64), pd.Index([], dtype=object)
    codes, uniques = pd.factorize(events[column], use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    uniques = pd.Index(uniques).astype(str)
    blank = np.flatnonzero(uniques.str.strip().str.len().to_numpy() == 0)
    if len(blank):  # an empty source cannot be sent (the API's pattern): it is no source
        codes = np.where(np.isin(codes, blank), -1, codes)
    return codes, uniques
