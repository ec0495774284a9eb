"""Streaming every operation: events beside catalog updates, new users, actions and action
interactions, through each transport, with the ledger balanced against the emulator's store."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from personalize_sim import ConfigError, PayloadError, stream, to_put_events
from personalize_sim.payloads import to_put_items, to_put_users
from personalize_sim.simulation import simulate_datasets
from personalize_sim.streaming import Conversion, FastTarget, MemoryTarget
from personalize_sim.tracker import LocalTracker

GROUP = "arn:aws:personalize:us-east-1:123456789012:dataset-group/shop"


@pytest.fixture(scope="module")
def group():
    return simulate_datasets("retail", users=150, days=1, rng=8, items=300)


def transports(tracker: LocalTracker) -> dict[str, object]:
    found: dict[str, object] = {
        "boto3": tracker.client(retries={"total_max_attempts": 1}),
        "fast": FastTarget(endpoint_url=tracker.endpoint_url),
    }
    try:
        from personalize_sim.streaming import CrtTarget

        found["crt"] = CrtTarget(endpoint_url=tracker.endpoint_url)
    except ImportError:  # the optional awscrt is missing: the others still run
        pass
    return found


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_mix_of_events_and_catalog_updates_balances_against_the_store(group):
    events = to_put_events(group.interactions, "local-tracker")
    items = to_put_items(group.items, GROUP)  # the group's ARN names its Items dataset
    users = to_put_users(group.users, GROUP)
    # interleaved as a live site sends them: catalog and sign-ups between event batches
    mix = [r for trio in itertools.zip_longest(events, items, users) for r in trio if r]
    with LocalTracker(max_tps=None) as tracker:
        used = transports(tracker)
        for name, target in used.items():
            handle = stream(mix, tracking_id=tracker.tracking_id, rate=4000, target=target)
            summary = handle.summary
            assert summary.balanced, name
            assert summary.delivered_requests == len(mix), name
            records = len(group.interactions) + len(group.items) + len(group.users)
            assert summary.delivered_events == records, name
        stats = tracker.stats()
        stored_items, stored_users = tracker.items(), tracker.users()
        stored_events = tracker.events()
    # every transport sent the whole mix; the store holds each record once (resends are
    # duplicates for events, replacements for records), and the counters say so
    assert len(stored_events) == stats["accepted_events"] == len(group.interactions)
    assert stats["duplicates"] == (len(used) - 1) * len(group.interactions)
    assert stats["PutItemsRequests"] == len(used) * len(items)
    assert stats["accepted_items"] == len(used) * len(group.items)
    # requests in flight at once land in any order: compare by id
    by_id = stored_items.set_index("ITEM_ID").loc[group.items["ITEM_ID"]].reset_index()
    pd.testing.assert_frame_equal(by_id, group.items.drop(columns=["release_day"]))
    assert sorted(stored_users["USER_ID"]) == sorted(group.users["USER_ID"])


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_each_dataset_frame_streams_to_its_operation(group, tmp_path):
    conversion = Conversion(dataset_group_arn=GROUP)
    with LocalTracker(max_tps=None) as tracker:
        client = tracker.client(retries={"total_max_attempts": 1})
        for name in ("items", "users", "actions", "action_interactions"):
            frame = getattr(group, name)
            checkpoint = tmp_path / f"{name}.ckpt"
            handle = stream(frame, tracking_id=tracker.tracking_id, rate=4000, target=client,
                            conversion=conversion, checkpoint=checkpoint)  # fmt: skip
            assert handle.summary.balanced and handle.summary.delivered_events == len(frame)
            again = stream(frame, tracking_id=tracker.tracking_id, rate=4000, target=client,
                           conversion=conversion, checkpoint=checkpoint)  # fmt: skip
            assert again.summary.resumed_requests == handle.summary.delivered_requests
        assert len(tracker.actions()) == len(group.actions)
        assert len(tracker.action_interactions()) == len(group.action_interactions)
        stats = tracker.stats()
    assert stats["accepted_action_interactions"] == len(group.action_interactions)


def test_the_dataset_can_be_said_and_a_group_is_needed(group):
    memory = MemoryTarget()
    users = group.users[["USER_ID", "MEMBERSHIP"]]
    with pytest.raises(ConfigError, match="dataset_group_arn"):
        stream(users, rate=1000, target=memory)
    with pytest.raises(ConfigError, match="dataset_group_arn"):
        Conversion(dataset_group_arn="arn:aws:personalize:us-east-1:1:dataset/shop/ITEMS")
    with pytest.raises(ConfigError, match="dataset"):
        Conversion(dataset="things")
    handle = stream(users, rate=1000, target=memory,
                    conversion=Conversion(dataset="users", dataset_group_arn=GROUP))  # fmt: skip
    assert handle.summary.delivered_events == len(users)
    assert memory.requests[0]["datasetArn"].endswith(":dataset/shop/USERS")
    bad = group.actions.assign(VALUE=[1.5, 2, 3])
    with pytest.raises(PayloadError, match="VALUE: wrong_type"):
        stream(bad, rate=1000, target=memory, conversion=Conversion(dataset_group_arn=GROUP))
    skipped = stream(bad, rate=1000, target=MemoryTarget(),
                     conversion=Conversion(dataset_group_arn=GROUP, invalid="skip"))  # fmt: skip
    assert skipped.summary.delivered_events == 2 and len(skipped.problems) == 1
