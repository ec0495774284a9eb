"""Who gets the credit for each event: Personalize's documented precedence, vectorised.

1. an explicit ``EVENT_ATTRIBUTION_SOURCE`` wins;
2. otherwise the recommender (or campaign) that issued the ``RECOMMENDATION_ID``: the one
   a mapping names, else the one the event carries in ``RECOMMENDER_ARN`` (a simulated
   frame, a tracker's events and the closed loop's say who issued each id);
3. otherwise ``SOURCE_NAME_UNDEFINED`` (an id no recommender issued lands here too,
   counted apart as *unmapped*).

>>> import pandas as pd
>>> events = pd.DataFrame({"EVENT_ATTRIBUTION_SOURCE": ["mine", None, None, None, None],
...                        "RECOMMENDATION_ID": ["r1", "r1", "r9", None, "r7"],
...                        "RECOMMENDER_ARN": [None, None, None, None, "arn:rec/b"]})
>>> found = resolve_sources(events, recommendation_map({"r1": "arn:rec/a"}))
>>> [found.names[c] for c in found.codes]
['mine', 'arn:rec/a', 'SOURCE_NAME_UNDEFINED', 'SOURCE_NAME_UNDEFINED', 'arn:rec/b']
>>> found.unmapped.tolist()
[False, False, True, False, False]
>>> alone = resolve_sources(events, recommendation_map(None))  # no mapping: ids carried
>>> [alone.names[c] for c in alone.codes][1:]
['SOURCE_NAME_UNDEFINED', 'SOURCE_NAME_UNDEFINED', 'SOURCE_NAME_UNDEFINED', 'arn:rec/b']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import factorized
from .._schema import ATTRIBUTION_SOURCE, RECOMMENDATION_ID, RECOMMENDER_ARN
from ..errors import ConfigError, ConfigTypeError
from ._metrics import SOURCE_NAME_UNDEFINED

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Sources", "recommendation_map", "resolve_sources"]

_ARN_COLUMNS = ("RECOMMENDER_ARN", "CAMPAIGN_ARN", "EVENT_ATTRIBUTION_SOURCE", "SOURCE")
_RECOMMENDERS = (
    "a mapping RECOMMENDATION_ID -> recommender ARN, a Series indexed by RECOMMENDATION_ID, "
    f"or a DataFrame (a table, or an events frame) with RECOMMENDATION_ID and one of "
    f"{', '.join(_ARN_COLUMNS)}"
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
    """``recommenders`` as a Series: RECOMMENDATION_ID -> source (the recommender's ARN).

    A frame's rows without both an id and a source say nothing and are left out.
    """
    import pandas as pd

    if recommenders is None:
        return pd.Series([], dtype=object)
    if isinstance(recommenders, pd.DataFrame):
        found = [c for c in _ARN_COLUMNS if c in recommenders.columns]
        if "RECOMMENDATION_ID" not in recommenders.columns or not found:
            raise ConfigError("recommenders", recommenders, _RECOMMENDERS)
        pairs = recommenders[["RECOMMENDATION_ID", found[0]]]
        known = pairs.notna().all(axis=1).to_numpy()
        pairs = pairs if known.all() else pairs[known]
        series = pd.Series(
            pairs[found[0]].to_numpy(dtype=object),
            index=pairs["RECOMMENDATION_ID"].astype(str).to_numpy(),
        )
        if series.index.has_duplicates:  # an events frame (simulated ones say who issued
            series = series[~pairs.duplicated().to_numpy()]  # each id) repeats its ids
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
    """The source of every row of ``events`` (see the module docstring): an id is credited
    to the recommender ``recommenders`` names for it, else to the issuer the row carries
    in ``RECOMMENDER_ARN`` (a simulated frame, a tracker's events), else it is unmapped."""
    import pandas as pd

    n = len(events)
    explicit_codes, explicit_names = _factorized(events, ATTRIBUTION_SOURCE, n)
    rec_codes, rec_ids = _factorized(events, RECOMMENDATION_ID, n)
    carried_codes, carried_names = _factorized(events, RECOMMENDER_ARN, n)
    # each distinct id -> its source, as a code into the few distinct mapped sources
    mapped = recommenders.reindex(rec_ids) if len(rec_ids) else recommenders.iloc[:0]
    mapped_codes, mapped_names = pd.factorize(mapped, use_na_sentinel=True)
    index: dict[str, int] = {}  # source name -> code, in order of first use

    def codes_of(values: Any) -> np.ndarray:
        return np.array([index.setdefault(str(v), len(index)) for v in values], dtype=np.int64)

    explicit_to, mapped_to = codes_of(explicit_names), codes_of(mapped_names)
    carried_to = codes_of(carried_names)
    id_to = np.full(len(rec_ids), -1, dtype=np.int64)
    named = mapped_codes >= 0
    id_to[named] = mapped_to[mapped_codes[named]]
    undefined = int(codes_of([SOURCE_NAME_UNDEFINED])[0])
    codes = np.full(n, undefined, dtype=np.int64)
    has_explicit = explicit_codes >= 0
    codes[has_explicit] = explicit_to[explicit_codes[has_explicit]]
    by_rec = ~has_explicit & (rec_codes >= 0)
    via = np.full(n, -1, dtype=np.int64)
    via[by_rec] = id_to[rec_codes[by_rec]]
    carried = by_rec & (via < 0) & (carried_codes >= 0)
    via[carried] = carried_to[carried_codes[carried]]
    known = by_rec & (via >= 0)
    codes[known] = via[known]
    unmapped = by_rec & (via < 0)
    return Sources(codes=codes, names=list(index), undefined=undefined, unmapped=unmapped)


def _factorized(events: pd.DataFrame, column: str, n: int) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1: missing or blank) and distinct values (an Index) of an optional column."""
    import pandas as pd

    if column not in events.columns:
        return np.full(n, -1, dtype=np.int64), pd.Index([], dtype=object)
    codes, uniques = factorized(events[column], f"events.{column}")
    codes = np.asarray(codes, dtype=np.int64)
    uniques = pd.Index(uniques).astype(str)
    blank = np.flatnonzero(uniques.str.strip().str.len().to_numpy() == 0)
    if len(blank):  # an empty source cannot be sent (the API's pattern): it is no source
        codes = np.where(np.isin(codes, blank), -1, codes)
    return codes, uniques
