"""Who issued each recommendation, an arm's true lift, and common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, simulate
from personalize_sim.simulation import ArmConfig, SimulationConfig, catalog_items
from personalize_sim.simulation.internal import recommender_table

START = "2026-01-05T00:00:00Z"


def config(*arms: ArmConfig, users: int = 600) -> SimulationConfig:
    base = SimulationConfig.preset("retail").replace(users=users, days=1, start=START)
    return base.replace(exposure__arms=arms) if arms else base


def test_every_recommendation_id_maps_to_the_recommender_of_its_arm():
    cfg = config(
        ArmConfig(name="top", recommender="popular",
                  recommender_arn="arn:aws:personalize:eu-west-1:123456789012:recommender/top"),
        ArmConfig(name="mine", recommender="personalized"),
    )  # fmt: skip
    frame = simulate(cfg, rng=1)
    recommended = frame["RECOMMENDATION_ID"].notna()
    assert (frame["RECOMMENDER_ARN"].notna() == recommended).all()  # an issuer for every id
    issued = frame[recommended].groupby("RECOMMENDATION_ID", observed=True)
    assert (issued["RECOMMENDER_ARN"].nunique() == 1).all()  # one id, one recommender
    assert (issued["arm"].nunique() == 1).all()
    firsts = issued[["arm", "RECOMMENDER_ARN"]].first()
    arns = dict(zip(firsts["arm"].astype(str), firsts["RECOMMENDER_ARN"].astype(str), strict=False))
    assert arns == {
        "top": "arn:aws:personalize:eu-west-1:123456789012:recommender/top",
        "mine": "arn:aws:personalize:us-east-1:000000000000:recommender/mine",
    }
    assert recommender_table(cfg)["RECOMMENDER_ARN"].tolist() == [arns["top"], arns["mine"]]


def test_a_bad_arn_or_lift_event_type_is_refused():
    with pytest.raises(ConfigError, match="recommender_arn"):
        ArmConfig(name="a", recommender_arn="not-an-arn")
    with pytest.raises(ConfigError, match="lift"):
        ArmConfig(name="a", lift=1.5)
    with pytest.raises(ConfigError, match=r"exposure.arms\[0\].lift_event_type"):
        config(ArmConfig(name="a", lift=0.1, lift_event_type="Buy"))
    # a YAML round trip keeps the new fields
    cfg = config(ArmConfig(name="a", lift=0.1, recommender_arn="arn:aws:personalize:x:1:r/a"))
    assert SimulationConfig.from_yaml(cfg.to_yaml()) == cfg


def test_lift_adds_one_event_per_chosen_click_a_second_later_with_its_id():
    cfg = config(ArmConfig(name="a", recommender="popular", lift=0.5), users=1500)
    frame = simulate(cfg, rng=2)
    added = frame[frame["incremental"]]
    assert len(added) > 0 and (added["EVENT_TYPE"] == "Purchase").all()
    assert not added["would_have_without_rec"].any()
    first = frame[~frame["incremental"]].groupby("RECOMMENDATION_ID")["TIMESTAMP"].min()
    delay = added.set_index("RECOMMENDATION_ID")["TIMESTAMP"] - first.reindex(
        added["RECOMMENDATION_ID"]
    )
    assert (delay == pd.Timedelta(seconds=1)).all()
    clicks = frame.loc[~frame["incremental"], "RECOMMENDATION_ID"].nunique()
    assert abs(len(added) / clicks - 0.5) < 3 * np.sqrt(0.25 / clicks)
    # the purchase carries the clicked item's price
    items = catalog_items(cfg, rng=2).set_index("ITEM_ID")["PRICE"]
    assert np.allclose(added["EVENT_VALUE"], items.reindex(added["ITEM_ID"]).to_numpy())


def test_without_lift_or_common_random_numbers_nothing_is_added():
    frame = simulate(config(), rng=3)
    assert not frame["incremental"].any()


def test_common_random_numbers_switch_one_arm_and_keep_the_rest():
    arms = (ArmConfig(name="a", recommender="popular"), ArmConfig(name="b", recommender="random"))
    on = config(*arms, users=800).replace(exposure__common_random_numbers=True)
    off = on.replace(exposure__arms=(ArmConfig(name="a", recommender="none"), arms[1]))
    f, c = simulate(on, rng=4), simulate(off, rng=4)
    for column in ("SESSION_ID", "TIMESTAMP", "EVENT_TYPE", "USER_ID", "DEVICE", "DISCOUNT"):
        assert f[column].equals(c[column]), column
    b = (f["arm"] == "b").to_numpy()
    assert f["ITEM_ID"][b].equals(c["ITEM_ID"][b])
    assert f["RECOMMENDATION_ID"][b].equals(c["RECOMMENDATION_ID"][b])
    assert (
        c.loc[~b, "RECOMMENDATION_ID"].isna().all() and f.loc[~b, "RECOMMENDATION_ID"].notna().any()
    )


def test_without_common_random_numbers_switching_an_arm_changes_other_draws():
    arms = (ArmConfig(name="a", recommender="popular"), ArmConfig(name="b", recommender="random"))
    on = config(*arms, users=800)
    off = on.replace(exposure__arms=(ArmConfig(name="a", recommender="none"), arms[1]))
    f, c = simulate(on, rng=4), simulate(off, rng=4)
    b = (f["arm"] == "b").to_numpy()
    assert not (f["DISCOUNT"].equals(c["DISCOUNT"]) and f["ITEM_ID"][b].equals(c["ITEM_ID"][b]))
