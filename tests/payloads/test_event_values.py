"""EVENT_VALUE: finite floats, NaN where absent; other types reported."""

from __future__ import annotations

import numpy as np
import pandas as pd

from personalize_sim import to_put_events
from personalize_sim.payloads._event_values import event_values
from personalize_sim.payloads._problems import ProblemReport

from .conftest import frame_of, problems_of


def test_numbers_of_any_dtype_become_floats():
    report = ProblemReport()
    assert event_values(pd.Series([1, 2]), "V", report).tolist() == [1.0, 2.0]
    got = event_values(pd.Series([1, None, np.float32(2.5)], dtype=object), "V", report)
    assert got[0] == 1.0 and np.isnan(got[1]) and got[2] == 2.5
    assert report.frame().empty


def test_bools_strings_and_infinities_are_reported():
    assert problems_of(frame_of(EVENT_VALUE=[True, False, True])) == [
        (0, "EVENT_VALUE", "wrong_type"),
        (1, "EVENT_VALUE", "wrong_type"),
        (2, "EVENT_VALUE", "wrong_type"),
    ]
    assert problems_of(frame_of(EVENT_VALUE=[1.0, np.inf, -np.inf])) == [
        (1, "EVENT_VALUE", "not_finite"),
        (2, "EVENT_VALUE", "not_finite"),
    ]
    assert problems_of(frame_of(EVENT_VALUE=pd.Series([1.0, "2", None], dtype=object))) == [
        (1, "EVENT_VALUE", "wrong_type")
    ]


def test_a_missing_value_leaves_event_value_out():
    frame = frame_of(EVENT_VALUE=[np.nan, 19.99, None])
    events = [e for r in to_put_events(frame, "t") for e in r["eventList"]]
    assert ["eventValue" in e for e in events] == [False, True, False]
    assert events[1]["eventValue"] == 19.99
