"""Identifiers as Arrow string arrays, built from numbers without a Python string each.

``SESSION_ID`` (``S0000000012``) and ``RECOMMENDATION_ID`` (``rec-S0000000012-003``)
have a fixed width, so their buffers are laid out directly as bytes: several times
faster than formatting numbers one by one or through Arrow's cast and join kernels
(``benchmarks/simulate.py --ids`` measures it against the plain version).

>>> sessions = session_bytes(np.array([12, 3]))
>>> session_ids(sessions).to_pylist()
['S0000000012', 'S0000000003']
>>> recommendation_ids(sessions[:1], np.array([3]), width=3).to_pylist()
['rec-S0000000012-003']
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "SESSION_DIGITS",
    "numbered",
    "recommendation_ids",
    "session_bytes",
    "session_ids",
    "with_nulls",
]

#: digits of a session number in SESSION_ID (S0000000012): fixed width keeps string order
SESSION_DIGITS = 10


def session_ids(sessions: np.ndarray) -> Any:
    """SESSION_IDs as an Arrow large_string array, from :func:`session_bytes`."""
    return fixed_width([sessions])


def recommendation_ids(sessions: np.ndarray, steps: np.ndarray, width: int) -> Any:
    """``rec-<SESSION_ID>-<step>`` per click: its session's :func:`session_bytes` and its
    step, zero-padded to ``width`` digits."""
    n = len(sessions)
    return fixed_width([text(b"rec-", n), sessions, text(b"-", n), digits(steps, width)])


def numbered(prefix: str, n: int) -> Any:
    """``prefix0`` … ``prefix{n-1}`` (user and item ids) as an Arrow large_string array."""
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pc.cast(pa.array(np.arange(n)), pa.string())
    return pc.binary_join_element_wise(prefix, numbers, "").cast(pa.large_string())


def session_bytes(numbers: np.ndarray) -> np.ndarray:
    """``S`` + 10 digits per session number, as (n, 11) ASCII bytes.

    Fixed width, so string order is number (= start time) order. Each session of the
    span is formatted once and its bytes copied to every event.
    """
    if len(numbers) == 0:
        return np.empty((0, 1 + SESSION_DIGITS), dtype=np.uint8)
    lo, hi = int(numbers.min()), int(numbers.max())
    span = np.arange(lo, hi + 1)
    formatted = np.hstack([text(b"S", len(span)), digits(span, SESSION_DIGITS)])
    return formatted[numbers - lo]


def with_nulls(strings: Any, missing: np.ndarray) -> Any:
    """The same string array with ``missing`` rows null, sharing its buffers (no copy)."""
    import pyarrow as pa

    if not missing.any():
        return strings
    if strings.offset:  # copy a slice first (pyarrow < 24's if_else gets sliced strings wrong)
        strings = pa.concat_arrays([strings])
    valid = ~missing
    if strings.null_count:
        valid &= strings.is_valid().to_numpy(zero_copy_only=False)
    _, offsets, data = strings.buffers()
    validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(len(strings), offsets, data, validity)


def digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """ASCII digits of non-negative integers, zero-padded: an (n, width) uint8 array."""
    out = np.empty((len(numbers), width), dtype=np.uint8)
    rest = numbers.astype(np.int64)
    for j in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        out[:, j] = digit
    out += ord("0")
    return out


def text(value: bytes, n: int) -> np.ndarray:
    """The same bytes on each of ``n`` rows (a read-only view)."""
    return np.broadcast_to(np.frombuffer(value, dtype=np.uint8), (n, len(value)))


def fixed_width(parts: list[np.ndarray]) -> Any:
    """An Arrow string array whose i-th value is row i of the byte blocks, side by side."""
    import pyarrow as pa

    n = parts[0].shape[0]
    width = sum(part.shape[1] for part in parts)
    data = np.hstack(parts).astype(np.uint8) if n else np.empty(0, dtype=np.uint8)
    offsets = np.arange(n + 1, dtype=np.int64) * width
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
