"""Action interactions frame ⇄ PutActionInteractions: exact inverse, model limits at and past
their bounds, unknown actions, deterministic event ids."""

from __future__ import annotations

import pandas as pd
import pytest
from botocore.stub import Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize_sim import ConfigError, PayloadError, limits
from personalize_sim.payloads import from_put_action_interactions, to_put_action_interactions

from .conftest import T0, client

OPS = limits.operation_limits("PutActionInteractions")
IDS = st.text(st.characters(codec="utf-8", exclude_characters="|"), min_size=1, max_size=10)


@st.composite
def interaction_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    strings = lambda: st.lists(IDS, min_size=n, max_size=n)  # noqa: E731
    optional = lambda: st.lists(st.none() | IDS, min_size=n, max_size=n)  # noqa: E731
    micros = sorted(draw(st.lists(st.integers(0, 4_000_000_000_000_000), min_size=n, max_size=n)))
    impressions = draw(st.lists(st.none() | st.lists(IDS, min_size=1, max_size=25),
                                min_size=n, max_size=n))  # fmt: skip
    frame = pd.DataFrame(
        {
            "USER_ID": pd.Series(draw(optional()), dtype="str"),
            "SESSION_ID": pd.Series(draw(strings()), dtype="str"),
            "ACTION_ID": pd.Series(draw(strings()), dtype="str"),
            "EVENT_TYPE": pd.Series(
                draw(
                    st.lists(
                        st.sampled_from(["Viewed", "Taken", "Not taken"]), min_size=n, max_size=n
                    )
                ),
                dtype="str",
            ),
            "TIMESTAMP": pd.to_datetime(micros, unit="us", utc=True).as_unit("us"),
            "EVENT_ID": pd.Series(draw(st.lists(IDS, min_size=n, max_size=n)), dtype="str"),
            "IMPRESSION": pd.Series(impressions, dtype=object),
            "RECOMMENDATION_ID": pd.Series(draw(optional()), dtype="str"),
        }
    )
    if draw(st.booleans()):
        frame["CHANNEL"] = pd.Series([draw(IDS), *draw(optional())[1:]], dtype="str")
    return frame


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interaction_frames())
def test_from_put_is_the_exact_inverse_of_to_put(frame):
    requests = to_put_action_interactions(frame, "tid")
    assert all(1 <= len(r["actionInteractions"]) <= 10 for r in requests)
    pd.testing.assert_frame_equal(from_put_action_interactions(requests), frame)


def frame_of(n: int = 3, **columns: object) -> pd.DataFrame:
    base: dict[str, object] = {
        "USER_ID": ["u1"] * n,
        "SESSION_ID": ["s1"] * n,
        "ACTION_ID": ["a1"] * n,
        "EVENT_TYPE": ["Viewed"] * n,
        "TIMESTAMP": [T0 + pd.Timedelta(seconds=i) for i in range(n)],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_requests_pass_botocores_validation_and_ids_are_deterministic():
    frame = frame_of(IMPRESSION=["a1|a2", None, ["a3"]])
    (request,) = to_put_action_interactions(frame, "tid")
    again = to_put_action_interactions(frame, "tid")[0]
    ids = [a["eventId"] for a in request["actionInteractions"]]
    assert ids == [a["eventId"] for a in again["actionInteractions"]] and len(set(ids)) == 3
    assert request["actionInteractions"][0]["impression"] == ["a1", "a2"]
    events = client()
    with Stubber(events) as stub:
        stub.add_response("put_action_interactions", {}, request)
        events.put_action_interactions(**request)


def test_identical_rows_get_numbered_ids():
    frame = frame_of(2, TIMESTAMP=[T0, T0])
    ids = [a["eventId"] for a in to_put_action_interactions(frame, "t")[0]["actionInteractions"]]
    assert ids[1] == ids[0] + "-1"


def test_each_model_limit_at_and_past_its_bound():
    most = OPS.field("actionInteractions[].impression").max
    rec = OPS.field("actionInteractions[].recommendationId").max
    ident = OPS.field("actionInteractions[].actionId").max
    frame = frame_of(
        6,
        IMPRESSION=[["a"] * most, ["a"] * (most + 1), None, None, None, None],
        RECOMMENDATION_ID=[None, None, "r" * rec, "r" * (rec + 1), None, None],
        ACTION_ID=["a1", "a1", "a1", "a1", "x" * ident, "x" * (ident + 1)],
    )
    requests, problems = to_put_action_interactions(frame, "tid", errors="collect")
    assert problems[["row", "field", "reason"]].values.tolist() == [
        [1, "IMPRESSION", "too_many"],
        [3, "RECOMMENDATION_ID", "too_long"],
        [5, "ACTION_ID", "too_long"],
    ]
    assert len(requests[0]["actionInteractions"]) == 3
    size = OPS.field("actionInteractions").max
    many = to_put_action_interactions(frame_of(size + 1), "tid")
    assert [len(r["actionInteractions"]) for r in many] == [size, 1]
    props = OPS.field("actionInteractions[].properties").max  # '{"note":"…"}' adds 11
    ok = frame_of(2, NOTE=["n" * (props - 11), "n" * (props - 10)])
    _, problems = to_put_action_interactions(ok, "tid", errors="collect")
    assert problems[["row", "field", "reason"]].values.tolist() == [[1, "properties", "too_long"]]


def test_unknown_actions_missing_columns_and_nulls_are_all_reported():
    frame = frame_of(3, ACTION_ID=["a1", "nope", "a1"], SESSION_ID=["s", None, "s"])
    with pytest.raises(PayloadError) as caught:
        to_put_action_interactions(frame, "tid", actions=pd.DataFrame({"ACTION_ID": ["a1"]}))
    assert caught.value.problems[["row", "field", "reason"]].values.tolist() == [
        [1, "ACTION_ID", "unknown_action"],
        [1, "SESSION_ID", "missing"],
    ]
    with pytest.raises(PayloadError, match="EVENT_TYPE: missing_column"):
        to_put_action_interactions(frame_of().drop(columns="EVENT_TYPE"), "tid")
    with pytest.raises(PayloadError, match="TIMESTAMP: wrong_type"):
        to_put_action_interactions(frame_of(TIMESTAMP=[1, 2, 3]), "tid")
    with pytest.raises(ConfigError, match="tracking_id"):
        to_put_action_interactions(frame_of(), "")


def test_the_simulated_action_interactions_convert_and_come_back():
    from personalize_sim.simulation import simulate_datasets

    group = simulate_datasets("retail", users=300, days=2, rng=1)
    chosen = group.action_interactions
    requests = to_put_action_interactions(chosen, "tid", actions=group.actions)
    back = from_put_action_interactions(requests)
    sent = ["USER_ID", "SESSION_ID", "ACTION_ID", "EVENT_TYPE", "TIMESTAMP"]
    pd.testing.assert_frame_equal(back[sent], chosen[sent])
