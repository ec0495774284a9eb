"""Events frames and Arrow tables from batches: the frame contract of docs/architecture.md.

Every column is first an Arrow array (strings as ``large_string``, the buffers pandas'
string dtype holds, so it never casts); :meth:`Frames.table` joins them as a
``pyarrow.Table``, and a DataFrame is assembled once from the parts of all its chunks
(:meth:`Frames.parts`, :meth:`Frames.assemble`): no DataFrame per block, no
``pd.concat``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from .._gc import paused_gc
from .._schema import RECOMMENDER_ARN
from ._batch import Batch
from ._ids import numbered, recommendation_ids, session_bytes, session_ids, with_nulls

if TYPE_CHECKING:
    import pandas as pd

    from ._config import SimulationConfig
    from ._population import Population

__all__ = ["GROUND_TRUTH", "Frames"]

#: ground-truth columns, after the contract and property columns (lower case: never sent)
GROUND_TRUTH = (
    "persona",
    "arm",
    "position",
    "organic",
    "would_have_without_rec",
    "true_user_id",
    "new_user",
    "incremental",
)


class Frames:
    """Builds one simulation's tables and frames (its id strings are built once)."""

    def __init__(self, config: SimulationConfig, population: Population, n_items: int) -> None:
        self.config = config
        self.population = population
        self.n_items = n_items

    @functools.cached_property
    def users(self) -> Any:
        return numbered("u", self.population.size)

    @functools.cached_property
    def items(self) -> Any:
        return numbered("i", self.n_items)

    @functools.cached_property
    def item_objects(self) -> np.ndarray:
        """The item ids as Python strings, for IMPRESSION lists."""
        return np.array(self.items.to_pylist(), dtype=object)

    @functools.cached_property
    def issuers(self) -> tuple[np.ndarray, list[str]]:
        """(each arm's code into the distinct recommender ARNs, those ARNs)."""
        import pandas as pd

        codes, arns = pd.factorize(pd.Series([a.arn for a in self.config.exposure.arms]))
        return np.asarray(codes, dtype=np.int32), [str(a) for a in arns]

    def columns(self, batch: Batch, *, impression: bool = True) -> dict[str, Any]:
        """Every column of a batch as an Arrow array (IMPRESSION as a list array).

        With ``impression=False`` the IMPRESSION entry is None (the frame builds lists).
        """
        import pyarrow as pa

        c = batch.cols
        true_users = self.users.take(pa.array(c["user"]))
        data = self._contract(batch, true_users, impression=impression)
        codes, arns = self.issuers
        data[RECOMMENDER_ARN] = pa.DictionaryArray.from_arrays(
            pa.array(codes[self.population.arm[c["user"]]], mask=c["rec_step"] < 0),
            pa.array(arns, type=pa.large_string()),
        )
        for j, spec in enumerate(self.config.properties):
            values = pa.array(list(spec.values), type=pa.large_string())
            data[spec.name] = values.take(pa.array(c["props"][:, j]))
        data.update(self._ground_truth(batch, true_users))
        return data

    def _contract(self, batch: Batch, true_users: Any, *, impression: bool) -> dict[str, Any]:
        """The events-frame columns of docs/architecture.md (the payload layer derives EVENT_ID)."""
        import pyarrow as pa

        cfg, c = self.config, batch.cols
        types = pa.array(list(cfg.funnel.names), type=pa.large_string())
        sources = pa.array([a.attribution_source for a in cfg.exposure.arms], pa.large_string())
        sessions = session_bytes(c["session"])
        recommended = c["rec_step"] >= 0
        rec_rows = np.flatnonzero(recommended)
        step_width = len(str(max(cfg.funnel.max_events - 1, 1)))
        rec_ids = recommendation_ids(sessions[rec_rows], c["rec_step"][rec_rows], step_width)
        rec_index = pa.array(np.cumsum(recommended) - 1, mask=~recommended)
        arm = self.population.arm[c["user"]]
        return {
            "USER_ID": with_nulls(true_users, ~c["visible"]),
            "SESSION_ID": session_ids(sessions),
            "ITEM_ID": self.items.take(pa.array(c["item"])),
            "EVENT_TYPE": types.take(pa.array(c["etype"])),
            "EVENT_VALUE": pa.array(c["value"]),
            "TIMESTAMP": pa.array(c["ts"], type=pa.timestamp("us", tz="UTC")),
            "IMPRESSION": self._slates(batch) if impression else None,
            "RECOMMENDATION_ID": rec_ids.take(rec_index),
            "EVENT_ATTRIBUTION_SOURCE": sources.take(
                pa.array(arm.astype(np.int64), mask=~recommended)
            ),
        }

    def _slates(self, batch: Batch) -> Any:
        """IMPRESSION as an Arrow list<large_string> array (null: no slate)."""
        import pyarrow as pa

        k = self.config.exposure.slate_size
        row = batch.cols["slate_row"]
        shown = row >= 0
        offsets = np.zeros(len(batch) + 1, dtype=np.int32)
        np.cumsum(np.where(shown, k, 0), out=offsets[1:])
        slate_items = self.items.take(pa.array(batch.slates[row[shown]].ravel()))
        return pa.ListArray.from_arrays(pa.array(offsets), slate_items, mask=pa.array(~shown))

    def _ground_truth(self, batch: Batch, true_users: Any) -> dict[str, Any]:
        """The simulator's ground truth, named in GROUND_TRUTH."""
        import pyarrow as pa

        cfg, c, pop = self.config, batch.cols, self.population
        return {
            "persona": pa.DictionaryArray.from_arrays(
                pa.array(pop.persona[c["user"]].astype(np.int8)),
                pa.array([p.name for p in cfg.population.personas]),
            ),
            "arm": pa.DictionaryArray.from_arrays(
                pa.array(pop.arm[c["user"]]), pa.array([a.name for a in cfg.exposure.arms])
            ),
            "position": pa.array(c["position"], mask=c["position"] < 0),
            "organic": pa.array(c["position"] < 0),
            "would_have_without_rec": pa.array(c["would_have"]),
            "true_user_id": true_users,
            "new_user": pa.array(pop.new[c["user"]]),
            "incremental": pa.array(c["incremental"]),
        }

    # -- tables and frames -----------------------------------------------------------------

    def table(self, batch: Batch) -> Any:
        """The batch as a ``pyarrow.Table`` with the frame's columns and types."""
        import pyarrow as pa

        return pa.table(self.columns(batch))

    def frame(self, batch: Batch, offset: int) -> pd.DataFrame:
        """The events frame of a batch; ``offset`` is its first row's index."""
        return self.assemble([self.parts(batch)], offset)

    def parts(self, batch: Batch) -> dict[str, Any]:
        """A batch's columns, ready to join with other chunks' (see :meth:`assemble`).

        Strings stay Arrow arrays, numbers and codes numpy arrays, IMPRESSION an object
        array of Python lists.
        """
        c = batch.cols
        parts = self.columns(batch, impression=False)
        impression = np.full(len(batch), None, dtype=object)
        rows = np.flatnonzero(c["slate_row"] >= 0)
        if len(rows):
            with paused_gc():  # millions of small lists: the cyclic GC would rescan them all
                lists = self.item_objects[batch.slates[c["slate_row"][rows]]].tolist()
                impression[rows] = np.fromiter(lists, dtype=object, count=len(rows))
        pop = self.population
        user = c["user"]
        parts.update(
            RECOMMENDER_ARN=np.where(c["rec_step"] >= 0, self.issuers[0][pop.arm[user]], -1),
            EVENT_VALUE=c["value"],
            TIMESTAMP=c["ts"],
            IMPRESSION=impression,
            persona=pop.persona[user],
            arm=pop.arm[user],
            position=c["position"],
            organic=c["position"] < 0,
            would_have_without_rec=c["would_have"],
            new_user=pop.new[user],
            incremental=c["incremental"],
        )
        return parts

    def assemble(self, chunks: list[dict[str, Any]], offset: int) -> pd.DataFrame:
        """One events frame from the parts of consecutive chunks (no pandas concat).

        The parts are consumed: each chunk's dict is emptied as its columns are joined.
        """
        import pandas as pd

        if not chunks:
            k = self.config.exposure.slate_size
            chunks = [self.parts(Batch.empty(len(self.config.properties), k))]
        columns: dict[str, Any] = {}
        for name in list(chunks[0]):
            columns[name] = self._pandas_column(name, _joined(chunks, name))
        n = len(columns["EVENT_VALUE"])
        return pd.DataFrame(columns, index=pd.RangeIndex(offset, offset + n))

    def _pandas_column(self, name: str, values: Any) -> Any:
        """A joined part as the frame's column: categories, nullable positions, strings."""
        import pandas as pd

        if name == "TIMESTAMP":
            return pd.DatetimeIndex(values.view("M8[us]")).tz_localize("UTC")
        if name == "persona":
            names = [p.name for p in self.config.population.personas]
            return pd.Categorical.from_codes(values, categories=names)
        if name == "arm":
            names = [a.name for a in self.config.exposure.arms]
            return pd.Categorical.from_codes(values, categories=names)
        if name == RECOMMENDER_ARN:
            return pd.Categorical.from_codes(values, categories=self.issuers[1])
        if name == "position":
            return pd.arrays.IntegerArray(values, values < 0)
        if isinstance(values, np.ndarray):
            return values
        # the default ``str`` dtype over the Arrow array, without copying
        return pd.array(values, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _joined(chunks: list[dict[str, Any]], name: str) -> Any:
    """One column of consecutive chunks, each chunk's piece popped as it is joined (so
    memory is not held twice): numpy arrays concatenated, Arrow arrays chunked."""
    import pyarrow as pa

    values = [chunk.pop(name) for chunk in chunks]
    if isinstance(values[0], np.ndarray):
        return values[0] if len(values) == 1 else np.concatenate(values)
    return pa.chunked_array(values, type=values[0].type)
