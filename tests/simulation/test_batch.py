"""Batch: per-event arrays taken, joined and merged with their slates still attached."""

from __future__ import annotations

import numpy as np

from personalize_sim.simulation._batch import Batch

from .conftest import batch_of


def slate_of_each(batch: Batch) -> list[int | None]:
    """The first item of each event's slate (None: no slate)."""
    row = batch.cols["slate_row"]
    return [int(batch.slates[r, 0]) if r >= 0 else None for r in row]


def test_take_keeps_each_event_with_its_slate():
    batch = batch_of([5, 6, 7, 8], [True, False, True, True])
    taken = batch.take(np.array([3, 1, 0]))
    assert taken.cols["ts"].tolist() == [8, 6, 5]
    assert slate_of_each(taken) == [8, None, 5]
    assert len(taken.slates) == 2  # only the slates still shown are kept
    assert len(batch.take(slice(1, 2)).slates) == 0


def test_concat_renumbers_the_slates_of_later_batches():
    joined = Batch.concat(
        [batch_of([1, 2], [True, True]), batch_of([3], [False]), batch_of([4], [True])], 1, 2
    )
    assert joined.cols["ts"].tolist() == [1, 2, 3, 4]
    assert slate_of_each(joined) == [1, 2, None, 4]
    assert len(Batch.concat([], 1, 2)) == 0


def test_merge_puts_carried_events_first_at_equal_times():
    carried = batch_of([3, 7], [True, False])
    carried.cols["session"][:] = [0, 1]
    block = batch_of([1, 3, 7, 9], [True, True, False, True])
    block.cols["session"][:] = [2, 3, 4, 5]
    merged = Batch.merge(carried, block)
    assert merged.cols["ts"].tolist() == [1, 3, 3, 7, 7, 9]
    assert merged.cols["session"].tolist() == [2, 0, 3, 1, 4, 5]
    assert slate_of_each(merged) == [1, 3, 3, None, None, 9]
    assert merged.cols["props"].shape == (6, 1)
