"""The problem report: every reason a row cannot be sent, gathered column by column.

Checks add a mask of bad rows at a time; the report becomes one DataFrame at the end,
ordered by row (column-wide problems first), then by the order the checks ran.

>>> import numpy as np, pandas as pd
>>> report = ProblemReport(labels=pd.Index(["a", "b", "c"]))
>>> report.add(np.array([False, True, False]), "ITEM_ID", "empty", ["x", "", "y"], "length >= 1")
>>> report.frame().values.tolist()
[['b', 'ITEM_ID', 'empty', '', 'length >= 1']]
>>> report.bad_positions().tolist()
[1]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROBLEM_COLUMNS", "ProblemReport", "one_row", "scatter"]

#: Columns of every problem report.
PROBLEM_COLUMNS = ("row", "field", "reason", "value", "limit")


@dataclass
class ProblemReport:
    """Problems gathered column-wise; turned into one DataFrame at the end."""

    parts: list[pd.DataFrame] = field(default_factory=list)
    labels: pd.Index | None = None

    def add(
        self,
        mask: np.ndarray | None,
        field_name: str,
        reason: str,
        values: Any,
        limit: Any = None,
    ) -> None:
        """Record ``reason`` for each row where ``mask`` is true (None: the whole column)."""
        if mask is None:
            rows: Any = [None]
            values = [values]
        else:
            where = np.flatnonzero(mask)
            if not len(where):
                return
            rows = self.labels[where] if self.labels is not None else where
            if isinstance(values, pd.Series):
                values = values.iloc[where].to_numpy(dtype=object)
            elif not np.isscalar(values):
                values = np.asarray(values, dtype=object)[where]
        part = pd.DataFrame({"row": rows, "value": values}, columns=["row", "value"])
        part.insert(1, "field", field_name)
        part.insert(2, "reason", reason)
        part["limit"] = limit
        part["_pos"] = -1 if mask is None else np.flatnonzero(mask)
        self.parts.append(part)

    def frame(self) -> pd.DataFrame:
        """The report: one row per problem, columns :data:`PROBLEM_COLUMNS`."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in PROBLEM_COLUMNS})
        out = pd.concat([p.astype(object) for p in self.parts], ignore_index=True)
        out = out.sort_values("_pos", kind="stable").drop(columns="_pos")
        return out.reset_index(drop=True)[list(PROBLEM_COLUMNS)]

    def bad_positions(self) -> np.ndarray:
        """Positions (not labels) of the rows with a problem; -1 for a column-wide one."""
        if not self.parts:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate([p["_pos"].to_numpy(dtype=np.int64) for p in self.parts]))

    def column_level(self) -> bool:
        """Whether a problem concerns a whole column (then no row can be sent)."""
        return any((p["_pos"] < 0).any() for p in self.parts)


def one_row(n: int, i: int) -> np.ndarray:
    """A mask of ``n`` rows that selects row ``i`` only."""
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def scatter(mask: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """A full-length mask from ``sub``, a mask over the rows where ``mask`` holds."""
    full = np.zeros(len(mask), dtype=bool)
    full[mask] = sub
    return full
