"""PutItems, PutUsers, PutActions and PutActionInteractions through the emulator: an
unmodified boto3 client sends the library's payloads, the store reads back the frame they
came from; each limit at and past its bound; quotas, duplicates and 404s of their own."""

from __future__ import annotations

import pandas as pd
import pytest

from personalize_sim import limits
from personalize_sim.payloads import (
    to_put_action_interactions,
    to_put_actions,
    to_put_items,
    to_put_users,
)
from personalize_sim.simulation import simulate_datasets
from personalize_sim.tracker import LocalTracker

from .conftest import TRACKING_ID

ARN = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/"
CONVERT = {"items": to_put_items, "users": to_put_users, "actions": to_put_actions}


@pytest.fixture(scope="module")
def group():
    return simulate_datasets(
        "video-on-demand", users=150, days=2, rng=4, catalog__descriptions=True
    )


def sent(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c for c in frame.columns if c.isupper()]].reset_index(drop=True)


def test_every_operation_reads_back_the_frame_it_came_from(tracker, group):
    client = tracker.client(retries={"total_max_attempts": 1})
    for name, convert in CONVERT.items():
        frame = getattr(group, name)
        for request in convert(frame.head(60), ARN + name.upper()):
            getattr(client, f"put_{name}")(**request)
        pd.testing.assert_frame_equal(getattr(tracker, name)(), sent(frame.head(60)), obj=name)
    chosen = group.action_interactions
    requests = to_put_action_interactions(chosen, TRACKING_ID, actions=group.actions)
    for request in requests:
        client.put_action_interactions(**request)
    back = tracker.action_interactions()
    assert list(back.columns[-2:]) == ["TRACKING_ID", "RECEIVED_AT"]
    columns = ["USER_ID", "SESSION_ID", "ACTION_ID", "EVENT_TYPE", "TIMESTAMP"]
    pd.testing.assert_frame_equal(back[columns], chosen[columns].reset_index(drop=True))
    stats = tracker.stats()
    assert stats["accepted_items"] == stats["accepted_users"] == 60
    assert stats["accepted_actions"] == len(group.actions)
    assert stats["accepted_action_interactions"] == len(chosen)
    # a resend is idempotent: the same event ids are counted as duplicates, not stored
    for request in requests:
        client.put_action_interactions(**request)
    assert tracker.stats()["action_interaction_duplicates"] == len(chosen)
    assert len(tracker.action_interactions()) == len(chosen)


def test_a_record_put_again_replaces_the_earlier_one(tracker):
    client = tracker.client()
    client.put_actions(datasetArn=ARN + "ACTIONS", actions=[
        {"actionId": "a", "properties": '{"value": 1}'}, {"actionId": "b"}])  # fmt: skip
    again = [{"actionId": "a", "properties": '{"value": 2}'}]
    client.put_actions(datasetArn=ARN + "ACTIONS", actions=again)
    actions = tracker.actions()
    assert actions["ACTION_ID"].tolist() == ["b", "a"] and actions["VALUE"].tolist()[1] == 2


@pytest.mark.parametrize(
    ("operation", "member", "record", "field"),
    [
        ("PutActions", "actions", {"actionId": "a"}, "actionId"),
        ("PutActions", "actions", {"actionId": "a", "properties": "{}"}, "properties"),
        ("PutActionInteractions", "actionInteractions",
         {"actionId": "a", "sessionId": "s", "timestamp": 1.5, "eventType": "Taken"}, "actionId"),
        ("PutActionInteractions", "actionInteractions",
         {"actionId": "a", "sessionId": "s", "timestamp": 1.5, "eventType": "Taken"},
         "recommendationId"),
        ("PutActionInteractions", "actionInteractions",
         {"actionId": "a", "sessionId": "s", "timestamp": 1.5, "eventType": "Taken"}, "impression"),
    ],
)  # fmt: skip
def test_each_limit_at_and_past_its_bound(client, operation, member, record, field):
    ops = limits.operation_limits(operation)
    most = ops.field(f"{member}[].{field}").max
    if field == "impression":
        at, past = ["a"] * most, ["a"] * (most + 1)
    elif field == "properties":
        at, past = '{"n":"' + "x" * (most - 8) + '"}', '{"n":"' + "x" * (most - 7) + '"}'
    else:
        at, past = "x" * most, "x" * (most + 1)
    base = {"datasetArn": ARN + "ACTIONS"} if member == "actions" else {"trackingId": TRACKING_ID}
    call = getattr(client, "put_actions" if member == "actions" else "put_action_interactions")
    call(**base, **{member: [{**record, field: at}]})
    with pytest.raises(client.exceptions.InvalidInputException, match=f"{member}.1.member.{field}"):
        call(**base, **{member: [{**record, field: past}]})
    size = ops.field(member).max
    key = "actionId" if member == "actions" else "eventId"
    call(**base, **{member: [{**record, key: f"r{i}"} for i in range(size)]})
    with pytest.raises(client.exceptions.InvalidInputException, match=member):
        call(**base, **{member: [record] * (size + 1)})


def test_wrong_dataset_unknown_tracker_and_bad_properties_are_refused(client):
    with pytest.raises(client.exceptions.InvalidInputException, match="Actions dataset"):
        client.put_actions(datasetArn=ARN + "ITEMS", actions=[{"actionId": "a"}])
    interaction = {"actionId": "a", "sessionId": "s", "timestamp": 1.5, "eventType": "Taken"}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_action_interactions(trackingId="other", actionInteractions=[interaction])
    with pytest.raises(client.exceptions.InvalidInputException, match="properties"):
        client.put_action_interactions(
            trackingId=TRACKING_ID, actionInteractions=[{**interaction, "properties": "[1]"}]
        )


def test_each_operation_has_its_own_quota():
    with LocalTracker(process=False, max_tps=1, dataset_max_tps=1, rng=0) as tracker:
        client = tracker.client(retries={"total_max_attempts": 1})
        interaction = {"actionId": "a", "sessionId": "s", "timestamp": 1.5, "eventType": "Taken"}
        client.put_action_interactions(trackingId="t", actionInteractions=[interaction])
        client.put_events(trackingId="t", sessionId="s",
                          eventList=[{"eventType": "View", "sentAt": 1.5}])  # fmt: skip
        client.put_items(datasetArn=ARN + "ITEMS", items=[{"itemId": "i"}])
        client.put_actions(datasetArn=ARN + "ACTIONS", actions=[{"actionId": "a"}])
        with pytest.raises(client.exceptions.ClientError, match="ThrottlingException"):
            client.put_actions(datasetArn=ARN + "ACTIONS", actions=[{"actionId": "a"}])
        with pytest.raises(client.exceptions.ClientError, match="ThrottlingException"):
            client.put_action_interactions(trackingId="t", actionInteractions=[interaction])
        stats = tracker.stats()
    assert stats["throttled"] == 2
    assert stats["PutActions4xxErrors"] == stats["PutActionInteractions4xxErrors"] == 1
