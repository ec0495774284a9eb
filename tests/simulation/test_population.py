"""Population: A/B arms, personas, anonymous sessions and logins, activity, new users."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from personalize_sim import simulate
from personalize_sim.simulation import (
    ArmConfig,
    ExposureConfig,
    FunnelConfig,
    PersonaConfig,
    PopulationConfig,
)

Z = NormalDist().inv_cdf(1 - 0.01 / 2)


def within_99(successes: float, n: int, p: float) -> bool:
    return abs(successes / n - p) <= Z * np.sqrt(p * (1 - p) / n)


def test_ab_split_and_persona_shares(plain):
    config = plain(
        population=PopulationConfig(
            users=20_000,
            anonymous_share=0.0,
            personas=(PersonaConfig(name="a", weight=3), PersonaConfig(name="b", weight=1)),
        ),
        exposure=ExposureConfig(
            arms=(
                ArmConfig(name="treatment", weight=0.7, recommender="random"),
                ArmConfig(name="control", weight=0.3, recommender="none"),
            )
        ),
    )
    frame = simulate(config, rng=6)
    users = frame.drop_duplicates("true_user_id")
    n = len(users)
    assert n > 10_000
    assert within_99((users["arm"] == "treatment").sum(), n, 0.7)
    assert within_99((users["persona"] == "a").sum(), n, 0.75)
    # one arm per user, for every event of that user
    assert frame.groupby("true_user_id", observed=True)["arm"].nunique().max() == 1


def test_anonymous_sessions_and_midway_logins(plain):
    funnel = FunnelConfig(
        event_types=plain().funnel.event_types,
        start={"View": 1.0},
        transitions={"View": {"View": 0.75, "exit": 0.25}},
    )
    config = plain(
        population=PopulationConfig(users=5_000, anonymous_share=0.3, login_share=0.4),
        funnel=funnel,
    )
    frame = simulate(config, rng=7)
    known = frame["USER_ID"].notna()
    first = frame.groupby("SESSION_ID")["USER_ID"].first()  # first non-null: any login
    starts_anonymous = frame.groupby("SESSION_ID")["USER_ID"].agg(lambda u: pd.isna(u.iloc[0]))
    n = len(starts_anonymous)
    assert within_99(starts_anonymous.sum(), n, 0.3)
    lengths = frame.groupby("SESSION_ID").size()
    eligible = starts_anonymous & (lengths >= 2)
    logged_in = first[eligible].notna()
    assert within_99(logged_in.sum(), int(eligible.sum()), 0.4)
    # once a user logs in, the session stays known, with the true user's id
    ordered = frame.sort_values(["SESSION_ID", "TIMESTAMP"])
    flips = ordered.assign(k=known[ordered.index].astype(int)).groupby("SESSION_ID")["k"].diff()
    assert (flips.dropna() >= 0).all()
    assert (frame.loc[known, "USER_ID"] == frame.loc[known, "true_user_id"]).all()
    # a session keeps its id throughout: one true user per session
    assert frame.groupby("SESSION_ID")["true_user_id"].nunique().max() == 1


def test_activity_is_heavy_tailed_only_when_asked(plain):
    def top_decile_share(sigma: float) -> float:
        config = plain(
            population=PopulationConfig(users=3_000, anonymous_share=0.0, activity_sigma=sigma)
        ).replace(days=7)
        sessions = simulate(config, rng=9).groupby("true_user_id")["SESSION_ID"].nunique()
        ordered = np.sort(sessions.to_numpy())[::-1]
        return ordered[: len(ordered) // 10].sum() / ordered.sum()

    assert top_decile_share(0.0) < 0.25
    assert top_decile_share(1.5) > 0.45


def test_new_users_arrive_during_the_window(plain):
    config = plain(
        population=PopulationConfig(users=4_000, anonymous_share=0.0, new_user_share=0.5)
    ).replace(days=6)
    frame = simulate(config, rng=10)
    day = (frame["TIMESTAMP"] - frame["TIMESTAMP"].min()).dt.days
    new_share = frame.groupby(day)["new_user"].mean()
    assert new_share.iloc[0] < 0.15
    assert new_share.iloc[-1] > 0.35
    assert new_share.is_monotonic_increasing
