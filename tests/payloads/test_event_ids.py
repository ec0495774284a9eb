"""Event ids: kept where given, derived deterministically elsewhere, duplicates reported."""

from __future__ import annotations

import pandas as pd

from personalize_sim import (
    to_put_events,
)

from .conftest import frame_of, problems_of


def test_event_ids_are_kept_or_derived_deterministically():
    frame = frame_of(EVENT_ID=["e1", None, "e3"])
    ids = [e["eventId"] for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert ids[0] == "e1" and ids[2] == "e3" and len(ids[1]) == 32
    again = [e["eventId"] for r in to_put_events(frame.copy(), "t") for e in r["eventList"]]
    assert again == ids
    changed = frame.copy()
    changed.loc[1, "ITEM_ID"] = "other"
    assert [e["eventId"] for r in to_put_events(changed, "t") for e in r["eventList"]][1] != ids[1]


def test_identical_rows_get_distinct_ids():
    frame = pd.concat([frame_of().iloc[[0]]] * 3, ignore_index=True)
    ids = [e["eventId"] for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert len(set(ids)) == 3
    assert ids[1] == ids[0] + "-1" and ids[2] == ids[0] + "-2"


def test_duplicate_given_event_ids():
    assert problems_of(frame_of(EVENT_ID=["e1", "e2", "e1"])) == [
        (2, "EVENT_ID", "duplicate_event_id")
    ]
