"""The block scheduler: blocks of time generated ahead in threads, events out in order.

A session may run past its block's end; those events wait in a carry buffer until
the next block has been generated, since no later block can produce an earlier event.
Sessions still running when the window ends are cut there by the engine.

**Threads.** Up to ``MAX_WORKERS`` blocks are generated ahead in threads (numpy
releases the GIL in its heavy loops) while the caller's thread builds frames; blocks
are consumed in order, so the output never depends on the threads (a test pins this).
No thread outlives the call or the iteration.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from ._batch import Batch
from ._engine import Run

__all__ = ["MAX_WORKERS", "batches", "chunked"]

#: blocks generated ahead in threads (the output never depends on it)
MAX_WORKERS = 2


def batches(run: Run, progress: Callable[[int, int], None] | None = None) -> Iterator[Batch]:
    """Final, sorted events block by block (a session's spill-over waits for the next).

    ``progress(blocks_done, blocks_total)`` is called after each block.
    """
    workers = max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    carry: Batch | None = None
    next_session = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ahead: collections.deque[Future[tuple[Batch, int]]] = collections.deque()
        submitted = 0
        for b in range(run.n_blocks):
            while submitted < run.n_blocks and len(ahead) < workers:
                # catalog days are reached here, in block order, on the caller's thread
                ahead.append(pool.submit(run.block, submitted, run.day_of(submitted)))
                submitted += 1
            block, n_sessions = ahead.popleft().result()
            block.cols["session"] += next_session
            next_session += n_sessions
            merged = block if carry is None else Batch.merge(carry, block)
            if b == run.n_blocks - 1:
                cut = len(merged)
            else:
                cut = int(np.searchsorted(merged.cols["ts"], run.bounds(b)[1]))
            if cut:
                yield merged.take(slice(0, cut))
            # a copy (not a view), so the merged block can be freed
            carry = merged.take(np.arange(cut, len(merged))) if cut < len(merged) else None
            if progress is not None:
                progress(b + 1, run.n_blocks)


def chunked(batches: Iterable[Batch], chunk_events: int, n_props: int, k: int) -> Iterator[Batch]:
    """The events of ``batches`` cut into chunks of ``chunk_events`` rows (the last: fewer)."""
    pending: list[Batch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += len(batch)
        if held < chunk_events:
            continue
        merged = Batch.concat(pending, n_props, k)
        cut = 0
        while len(merged) - cut >= chunk_events:
            yield merged.take(slice(cut, cut + chunk_events))
            cut += chunk_events
        rest = merged.take(np.arange(cut, len(merged)))  # a copy: frees the merged arrays
        pending, held = [rest], len(rest)
    if held:
        yield Batch.concat(pending, n_props, k)
