"""Attempt records moved out of memory into a temporary Arrow IPC file, in batches.

A long stream makes one record per attempt (3.6M in an hour at 1,000 requests/s); the
delivery log keeps the newest in memory and appends each full batch here, so memory stays
flat while the whole log can still be read back at the end (:meth:`Spill.batches`). The file
is removed when the log is dropped or the interpreter exits.
"""

from __future__ import annotations

import contextlib
import operator
import os
import tempfile
import threading
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ._records import COLUMNS, DTYPES, Attempt

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["Spill", "schema", "to_batch", "to_frame"]

_ARROW_TYPES = {"string": "string", "int64": "int64", "float64": "float64", "bool": "bool_"}


def schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(name, getattr(pa, _ARROW_TYPES[DTYPES[name]])()) for name in COLUMNS])


def to_batch(records: Sequence[Attempt], columns: Sequence[str] | None = None) -> pa.RecordBatch:
    """The records as one Arrow record batch with the columns of :mod:`._records` (or
    ``columns`` of them, in that order)."""
    import pyarrow as pa

    s = schema()
    if columns is not None:
        s = pa.schema([s.field(name) for name in columns])
    if not records:
        return _empty(s)
    # a column at a time: several times cheaper than rows of tuples transposed with zip
    arrays = [pa.array(list(map(operator.attrgetter(f.name), records)), type=f.type) for f in s]
    return pa.record_batch(arrays, schema=s)


def _empty(s: pa.Schema) -> pa.RecordBatch:
    import pyarrow as pa

    return pa.record_batch([pa.array([], type=f.type) for f in s], schema=s)


def to_frame(batches: Sequence[pa.RecordBatch]) -> pd.DataFrame:
    """A DataFrame of record batches, with the dtypes of the delivery log."""
    import pyarrow as pa

    table = pa.Table.from_batches(list(batches), schema=schema())
    return table.to_pandas().astype(DTYPES)


class Spill:
    """An append-only Arrow IPC stream in a temporary file: ``write(records)``, ``batches()``."""

    def __init__(self, folder: str | None = None) -> None:
        import pyarrow as pa

        fd, self.path = tempfile.mkstemp(prefix="personalize-sim-log-", suffix=".arrows",
                                         dir=folder)  # fmt: skip
        self._file = os.fdopen(fd, "wb")
        self._writer = pa.ipc.new_stream(self._file, schema())
        self._lock = threading.Lock()
        self.rows = 0
        self._finalizer = weakref.finalize(self, _remove, self._writer, self._file, self.path)

    def write(self, records: Sequence[Attempt]) -> None:
        batch = to_batch(records)
        with self._lock:
            self._writer.write_batch(batch)
            self.rows += batch.num_rows

    def batches(self, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """Every batch written so far (or the first ``rows`` rows), read back from the file."""
        import pyarrow as pa

        with self._lock:
            self._file.flush()
            size = self._file.tell()
        if self.rows == 0:
            return
        left = self.rows if rows is None else rows
        with open(self.path, "rb") as f:
            reader = pa.ipc.open_stream(pa.PythonFile(_Bounded(f, size), mode="r"))
            for batch in reader:
                if left <= 0:
                    return
                yield batch if batch.num_rows <= left else batch.slice(0, left)
                left -= batch.num_rows

    def close(self) -> None:
        """Remove the file (idempotent)."""
        self._finalizer()

    def __repr__(self) -> str:
        return f"Spill({self.path!r}, rows={self.rows})"


class _Bounded:
    """A file read only up to ``size`` bytes (what was flushed when reading began)."""

    def __init__(self, f: Any, size: int) -> None:
        self.f, self.left = f, size
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return bytes(data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


def _remove(writer: Any, file: Any, path: str) -> None:
    with contextlib.suppress(Exception):
        writer.close()
    with contextlib.suppress(Exception):
        file.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
