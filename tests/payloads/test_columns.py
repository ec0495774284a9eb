"""Which column is which field: dataset or API spelling, not both."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, to_put_events, validate_events
from personalize_sim.payloads._columns import as_objects, resolve_columns

from .conftest import T0, frame_of


def test_api_camel_case_columns_are_accepted():
    frame = pd.DataFrame(
        {
            "userId": ["u1"],
            "sessionId": ["s1"],
            "itemId": ["i1"],
            "eventType": ["View"],
            "sentAt": [T0],
            "impression": [["i1", "i2"]],
            "recommendationId": ["r"],
            "eventAttributionSource": ["src"],
        }
    )
    (request,) = to_put_events(frame, "t")
    assert request["userId"] == "u1"
    assert request["eventList"][0]["impression"] == ["i1", "i2"]


def test_both_spellings_of_one_field_is_a_usage_error():
    with pytest.raises(ValueError, match=r"USER_ID.*userId") as caught:
        validate_events(frame_of(userId=["a", "b", "c"]))
    assert isinstance(caught.value, ConfigError)
    assert caught.value.field == "frame.columns"
    assert caught.value.value == ["USER_ID", "userId"]
    assert "both give USER_ID" in caught.value.allowed


def test_resolve_columns_maps_each_field_to_its_column():
    frame = pd.DataFrame(columns=["sentAt", "ITEM_ID", "eventAttributionSource", "persona", 3])
    assert resolve_columns(frame) == {
        "TIMESTAMP": "sentAt",
        "ITEM_ID": "ITEM_ID",
        "EVENT_ATTRIBUTION_SOURCE": "eventAttributionSource",
    }


def test_as_objects_gives_none_for_every_kind_of_missing_value():
    series = pd.Series(["a", None, np.nan, pd.NA, "b"], dtype=object)
    assert as_objects(series).tolist() == ["a", None, None, None, "b"]
    assert as_objects(pd.Series([1, 2**62]), ints_as_text=True).tolist() == ["1", str(2**62)]
    typed = pd.Series(["x", None], dtype="string")
    assert as_objects(typed).tolist() == ["x", None]
