"""A whole dataset group: items, users, actions and action interactions beside the events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, simulate
from personalize_sim.simulation import (
    ActionConfig,
    ActionsConfig,
    SimulationConfig,
    simulate_datasets,
)

START = "2026-01-05T00:00:00Z"


@pytest.fixture(scope="module")
def group():
    return simulate_datasets("retail", users=1500, days=3, rng=5, start=START)


def test_the_interactions_are_simulates_frame_byte_for_byte(group):
    assert group.interactions.equals(simulate("retail", users=1500, days=3, rng=5, start=START))


def test_every_event_names_an_item_and_a_user_of_the_datasets(group):
    events = group.interactions
    assert set(events["ITEM_ID"]) <= set(group.items["ITEM_ID"])
    assert set(events["USER_ID"].dropna()) <= set(group.users["USER_ID"])
    assert set(events["true_user_id"]) <= set(group.users["USER_ID"])
    assert group.users["USER_ID"].is_unique and group.items["ITEM_ID"].is_unique


def test_no_event_comes_before_its_items_creation(group):
    created = group.items.set_index("ITEM_ID")["CREATION_TIMESTAMP"]
    at = created.reindex(group.interactions["ITEM_ID"]).to_numpy()
    assert (group.interactions["TIMESTAMP"].to_numpy() >= at).all()
    released = group.items[group.items["release_day"] > 0]
    assert len(released)  # the retail preset releases items inside the window
    start = pd.Timestamp(START)
    expected = start + pd.to_timedelta(released["release_day"], unit="D")
    assert (released["CREATION_TIMESTAMP"] == expected).all()
    before = group.items[group.items["release_day"] == 0]["CREATION_TIMESTAMP"]
    assert (before < start).all() and (before.dt.microsecond == 0).all()


def test_users_carry_their_persona_and_membership(group):
    users = group.users.set_index("USER_ID")
    events = group.interactions.dropna(subset=["USER_ID"])
    assert (
        users.loc[events["USER_ID"], "persona"].to_numpy() == events["persona"].astype(str)
    ).all()
    assert set(users["MEMBERSHIP"]) == {"gold", "silver", "basic"}
    assert users["AGE_BAND"].notna().all()
    assert users.loc[users["new_user"], "joined_at"].notna().all()
    assert users.loc[~users["new_user"], "joined_at"].isna().all()


def test_action_interactions_follow_the_rule(group):
    chosen = group.action_interactions
    assert set(chosen["ACTION_ID"]) <= set(group.actions["ACTION_ID"])
    assert set(chosen["USER_ID"]) <= set(group.users["USER_ID"])
    assert set(chosen["EVENT_TYPE"]) == {"Viewed", "Taken", "Not taken"}
    assert chosen["TIMESTAMP"].is_monotonic_increasing
    # every decision follows a view of the same action by the same user, one second later
    decided = chosen[chosen["EVENT_TYPE"] != "Viewed"]
    views = chosen[chosen["EVENT_TYPE"] == "Viewed"]
    keys = set(zip(views["SESSION_ID"], views["ACTION_ID"], views["TIMESTAMP"], strict=True))
    for row in decided.itertuples():
        assert (row.SESSION_ID, row.ACTION_ID, row.TIMESTAMP - pd.Timedelta(seconds=1)) in keys


def test_fatigue_lowers_the_propensity_of_each_repeat():
    cfg = SimulationConfig.preset("retail").replace(
        users=200, days=7, start=START,
        actions=ActionsConfig(
            actions=(ActionConfig(name="a", base_propensity=0.0),), view_share=1.0, fatigue=0.5
        ),
    )  # fmt: skip
    chosen = simulate_datasets(cfg, rng=1).action_interactions
    assert (chosen["EVENT_TYPE"] != "Taken").all()  # propensity 0: nobody takes it
    cfg = cfg.replace(actions__actions=(ActionConfig(name="a", base_propensity=0.8),))
    views = simulate_datasets(cfg, rng=1).action_interactions.query("EVENT_TYPE == 'Viewed'")
    for _, seen in views.groupby("USER_ID"):
        expected = 0.8 * 0.5 ** np.arange(len(seen))
        assert np.allclose(seen["propensity"].to_numpy(), expected)


def test_a_taken_action_without_repeat_frequency_is_never_shown_again():
    cfg = SimulationConfig.preset("retail").replace(
        users=100, days=5, start=START, actions=ActionsConfig(
            actions=(ActionConfig(name="a", base_propensity=1.0),), view_share=1.0),
    )  # fmt: skip
    chosen = simulate_datasets(cfg, rng=2).action_interactions
    per_user = chosen.groupby("USER_ID")["EVENT_TYPE"].agg(tuple)
    assert len(per_user) and (per_user == ("Viewed", "Taken")).all()


def test_an_expired_action_is_not_shown_and_the_dataset_says_when():
    cfg = SimulationConfig.preset("retail").replace(
        users=100, days=2, start=START, actions=ActionsConfig(
            actions=(ActionConfig(name="a", expires_after_days=0),), view_share=1.0),
    )  # fmt: skip
    group = simulate_datasets(cfg, rng=2)
    assert group.actions["EXPIRATION_TIMESTAMP"].iloc[0] == pd.Timestamp("2026-01-07", tz="UTC")
    assert len(group.action_interactions)  # shown until the window's end, which it expires at


def test_the_same_seed_gives_the_same_datasets(group):
    again = simulate_datasets("retail", users=1500, days=3, rng=5, start=START)
    for name, frame in group.frames().items():
        pd.testing.assert_frame_equal(frame, again.frames()[name], obj=name)
    other = simulate_datasets("retail", users=1500, days=3, rng=6, start=START)
    assert not other.users.equals(group.users)


def test_a_propensity_for_an_unknown_persona_is_refused():
    with pytest.raises(ConfigError, match=r"actions\.actions\[0\]\.propensity\.nobody"):
        SimulationConfig.preset("retail").replace(
            actions__actions=(ActionConfig(name="a", propensity={"nobody": 0.5}),)
        )
    with pytest.raises(ConfigError, match="value"):
        ActionConfig(name="a", value=1.5)


def test_descriptions_come_when_the_catalog_asks():
    cfg = SimulationConfig.preset("retail").replace(
        users=50, days=1, start=START, catalog__descriptions=True
    )
    items = simulate_datasets(cfg, rng=0).items
    assert items["DESCRIPTION"].str.contains(" item, ").all()
    assert "DESCRIPTION" not in simulate_datasets("retail", users=50, days=1, rng=0).items
