"""A simulation cut into partitions of consecutive blocks of time, for parallel engines.

Randomness is keyed by block of time (``_engine``), not by user: one block's stream draws
the arrivals, the users and the clicks of every session starting in it. So a simulation
splits exactly along blocks, never along users: each partition task generates its own
blocks (phase 1, :func:`generate_part`), and each output partition is then assembled
from its own events plus the spill-over of sessions begun in earlier partitions (phase 2,
:func:`assemble_part`). The parts concatenated equal :func:`~._simulate.simulate`'s frame,
row for row, for any number of partitions (a test pins this).

Both phases are pure functions of a picklable :class:`PartPlan` (and of phase 1's
outputs), so an engine such as Dask may run them anywhere and recompute a lost one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import count
from ..errors import ConfigError
from ._batch import Batch
from ._columns import Frames
from ._engine import Run
from ._simulate import _run

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PartOutput",
    "PartPlan",
    "assemble_part",
    "empty_part",
    "generate_part",
    "plan_parts",
]


@dataclass(frozen=True)
class PartPlan:
    """What every partition task needs: the config, the root entropy, the window and the
    block range of each partition (``blocks[p]`` is ``(first, stop)``)."""

    config: Any  # SimulationConfig (Any: the dataclass pickles as is)
    entropy: int
    now: dt.datetime
    blocks: tuple[tuple[int, int], ...]

    @property
    def partitions(self) -> int:
        return len(self.blocks)

    def run(self) -> Run:
        return Run(self.config, None, self.now, entropy=self.entropy)


@dataclass(frozen=True)
class PartOutput:
    """Phase 1 of partition ``index``: its events before its end, those after it (of its
    own sessions, numbered from 0 within the partition) and how many sessions it began."""

    index: int
    own: Batch
    spill: Batch
    sessions: int

    def spill_only(self) -> PartOutput:
        """This output without its own events: what later partitions need of it."""
        return PartOutput(self.index, self.own.take(slice(0, 0)), self.spill, self.sessions)


def plan_parts(
    config: Any = None,
    *,
    partitions: int | None = None,
    rng: Any = None,
    now: dt.datetime | None = None,
    **overrides: Any,
) -> PartPlan:
    """Split a simulation into ``partitions`` ranges of blocks (default: one per block).

    The arguments are :func:`~._simulate.simulate`'s; ``now`` is fixed here (default: the
    current time) so every task sees the same window.

    >>> plan = plan_parts("retail", users=50, days=3, rng=1, start="2026-01-05", partitions=2)
    >>> plan.blocks
    ((0, 2), (2, 3))
    """
    now = now if now is not None else dt.datetime.now(dt.timezone.utc)
    run = _run(config, rng, now, None, overrides)
    n = run.n_blocks if partitions is None else partitions
    count(n, "partitions", low=1)
    if n > run.n_blocks:
        raise ConfigError(
            "partitions", n,
            f"at most {run.n_blocks}: this simulation has {run.n_blocks} blocks of "
            f"{run.block_us // 3_600_000_000} h, and a partition is one or more whole blocks",
        )  # fmt: skip
    edges = np.linspace(0, run.n_blocks, n + 1).round().astype(int).tolist()
    blocks = tuple((edges[i], edges[i + 1]) for i in range(n))
    return PartPlan(run.config, run.entropy, now, blocks)


def generate_part(plan: PartPlan, index: int, run: Run | None = None) -> PartOutput:
    """Phase 1: the events of the sessions that start in partition ``index``'s blocks."""
    run = plan.run() if run is None else run
    first, stop = plan.blocks[index]
    pieces: list[Batch] = []
    sessions = 0
    for b in range(first, stop):
        block, n_sessions = run.block(b, run.day_of(b))
        block.cols["session"] += sessions
        sessions += n_sessions
        pieces.append(block)
    merged = _in_order(pieces, run)
    end = run.bounds(stop - 1)[1] if stop < run.n_blocks else run.end_us + 1
    cut = int(np.searchsorted(merged.cols["ts"], end))
    own = merged.take(slice(0, cut))
    spill = merged.take(np.arange(cut, len(merged)))
    return PartOutput(index, own, spill, sessions)


def assemble_part(plan: PartPlan, earlier: list[PartOutput], own: PartOutput) -> pd.DataFrame:
    """Phase 2: partition ``own.index``'s events frame, from its phase-1 output and those of
    every earlier partition (their sessions spilling into its window), in partition order."""
    run = plan.run()
    index = own.index
    check_order = [o.index for o in earlier] == list(range(index))
    assert check_order, "assemble_part needs the outputs of partitions 0 … index-1, in order"
    start = run.bounds(plan.blocks[index][0])[0]
    stop = plan.blocks[index][1]
    end = run.bounds(stop - 1)[1] if stop < run.n_blocks else run.end_us + 1
    pieces, offset = [], 0
    for out in [*earlier, own]:
        part = out.own if out is own else out.spill
        ts = part.cols["ts"]
        lo, hi = np.searchsorted(ts, start), np.searchsorted(ts, end)
        piece = part.take(slice(int(lo), int(hi)))
        piece.cols["session"] = piece.cols["session"] + offset
        pieces.append(piece)
        offset += out.sessions
    return _frame(run, _in_order(pieces, run))


def empty_part(plan: PartPlan) -> pd.DataFrame:
    """A frame with no rows and every column of a partition's (a Dask ``meta``)."""
    run = plan.run()
    return _frame(run, Batch.empty(run.n_props, run.k))


def _frame(run: Run, batch: Batch) -> pd.DataFrame:
    frame = Frames(run.config, run.population, run.catalog.size).frame(batch, 0)
    frame.attrs["timezone"] = run.config.time.timezone
    return frame


def _in_order(pieces: list[Batch], run: Run) -> Batch:
    """Time-sorted pieces joined in (TIMESTAMP, earlier piece first) order, as the
    scheduler's carry-then-block merges leave them."""
    merged = Batch.concat(pieces, run.n_props, run.k)
    if len(pieces) > 1:
        merged = merged.take(np.argsort(merged.cols["ts"], kind="stable"))
    return merged
