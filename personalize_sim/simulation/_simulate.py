"""The public functions: simulate a frame, iterate over chunks, write Parquet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from .._checks import count, instance
from ..errors import ConfigTypeError
from ._batch import Batch
from ._columns import Frames
from ._config import SimulationConfig
from ._engine import Run
from ._scheduler import batches, chunked

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = ["DEFAULT_CHUNK_EVENTS", "iter_simulate", "simulate", "write_parquet"]

DEFAULT_CHUNK_EVENTS = 1_000_000
Progress = Callable[[int, int], None]


def simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Simulate a site's traffic as an events frame (docs/architecture.md) plus ground truth.

    ``config`` is a :class:`SimulationConfig`, a preset name, or None for the defaults;
    ``overrides`` go through :meth:`SimulationConfig.replace` (``users=``, ``days=`` …).
    ``rng`` (a seed or Generator) replaces ``config.rng``. The window is fixed by
    ``time.start`` or ``time.end`` (default: it starts at ``DEFAULT_START``, so the same
    config and seed give the same frame); ``end="now"`` ends it at ``now`` (default: the
    current time). ``progress(blocks_done, total)`` is called as blocks of time are
    generated. ``frame.attrs["timezone"]`` is the config's time zone (plots use it).

    >>> frame = simulate("retail", users=300, days=1, rng=1, start="2026-01-05")
    >>> frame[["SESSION_ID", "EVENT_TYPE", "ITEM_ID", "position"]].head(3)
        SESSION_ID EVENT_TYPE ITEM_ID  position
    0  S0000000000       View   i3085      <NA>
    1  S0000000001       View    i763         4
    2  S0000000001  AddToCart    i763         4
    """
    return events_of(_run(config, rng, now, progress, overrides), progress)


def events_of(run: Run, progress: Progress | None) -> pd.DataFrame:
    """The events frame of ``run`` (what :func:`simulate` returns)."""
    frames = Frames(run.config, run.population, run.catalog.size)
    # columns are built block by block while threads generate the next blocks, then
    # joined once (Arrow chunks and numpy arrays: no DataFrame per block, no pd.concat)
    parts = [frames.parts(batch) for batch in batches(run, progress)]
    frame = frames.assemble(parts, 0)
    frame.attrs["timezone"] = run.config.time.timezone
    return frame


@overload
def iter_simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    arrow: Literal[False] = False,
    **overrides: Any,
) -> Iterator[pd.DataFrame]: ...


@overload
def iter_simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    arrow: Literal[True],
    **overrides: Any,
) -> Iterator[pa.Table]: ...


@overload
def iter_simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    arrow: bool,
    **overrides: Any,
) -> Iterator[pd.DataFrame] | Iterator[pa.Table]: ...


def iter_simulate(
    config: SimulationConfig | str | None = None,
    *,
    rng: np.random.Generator | int | None = None,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    arrow: bool = False,
    **overrides: Any,
) -> Iterator[pd.DataFrame] | Iterator[pa.Table]:
    """Yield the frame :func:`simulate` would return, in chunks of ``chunk_events`` rows.

    Memory stays bounded by one block of time plus one chunk; the concatenated chunks
    equal ``simulate``'s frame whatever the chunk size (indices continue across chunks).
    ``progress(blocks_done, blocks_total)`` is called after each block. With
    ``arrow=True`` the chunks are ``pyarrow.Table`` objects holding the same columns
    (IMPRESSION as a list<string> column): no Python objects are built, which makes
    writing Parquet several times faster.

    >>> chunks = iter_simulate("retail", users=300, days=1, rng=1, start="2026-01-05",
    ...                        chunk_events=100, arrow=True)
    >>> [table.num_rows for table in chunks][:3]
    [100, 100, 100]
    """
    count(chunk_events, "chunk_events", low=1)
    run = _run(config, rng, now, progress, overrides)
    frames = Frames(run.config, run.population, run.catalog.size)
    pieces = chunked(batches(run, progress), chunk_events, run.n_props, run.k)
    if arrow:
        return (frames.table(piece) for piece in pieces)
    return _frames(frames, pieces)


def _frames(frames: Frames, pieces: Iterator[Batch]) -> Iterator[pd.DataFrame]:
    offset = 0
    for piece in pieces:
        frame = frames.frame(piece, offset)
        frame.attrs["timezone"] = frames.config.time.timezone
        yield frame
        offset += len(piece)


def write_parquet(
    frames: pd.DataFrame | pa.Table | Iterable[pd.DataFrame | pa.Table], path: str | Path
) -> list[Path]:
    """Write a frame (or Arrow table) to one Parquet file, or chunks to a directory.

    ``frames`` is a DataFrame or ``pyarrow.Table`` (one file at ``path``), or an iterable
    of them such as :func:`iter_simulate` yields (``path/part-00000.parquet`` …).
    Returns the files written; ``pd.read_parquet(directory)`` reads the parts in order.
    """
    import pandas as pd
    import pyarrow as pa

    instance(path, "path", (str, Path), "a file or directory path (str or Path)")
    target = Path(path)
    if isinstance(frames, pd.DataFrame | pa.Table):
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(frames, target)
        return [target]
    if not isinstance(frames, Iterable):
        raise ConfigTypeError(
            "frames", frames, "a DataFrame, a pyarrow Table, or an iterable of them"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for i, frame in enumerate(frames):
        part = target / f"part-{i:05d}.parquet"
        _write(frame, part, f"frames[{i}]")
        written.append(part)
    return written


def _write(part: Any, file: Path, field: str = "frames") -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    if isinstance(part, pa.Table):
        pq.write_table(part, file)
    elif isinstance(part, pd.DataFrame):
        part.to_parquet(file, index=False)
    else:
        raise ConfigTypeError(field, part, "a pandas DataFrame or a pyarrow Table")


def _run(
    config: Any,
    rng: Any,
    now: Any,
    progress: Any,
    overrides: dict[str, Any],
) -> Run:
    """Check the arguments the public functions share and set the simulation up."""
    if config is None:
        config = SimulationConfig()
    elif isinstance(config, str):
        config = SimulationConfig.preset(config)
    instance(config, "config", SimulationConfig, "a SimulationConfig, a preset name or None")
    if now is not None:
        instance(now, "now", dt.datetime, "a datetime or None (the current time)")
    if progress is not None and not callable(progress):
        raise ConfigTypeError("progress", progress, "a callable(blocks_done, blocks_total) or None")
    return Run(config.replace(**overrides) if overrides else config, rng, now)
