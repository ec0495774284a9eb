"""Population: A/B arms, personas, anonymous sessions and logins, activity, new users."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError, simulate
from personalize_sim.simulation import (
    ArmConfig,
    ExposureConfig,
    FunnelConfig,
    PersonaConfig,
    PopulationConfig,
)
from personalize_sim.simulation._funnel import Chain
from personalize_sim.simulation._population import (
    build_population,
    draw_sessions,
    visible_users,
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


def test_who_starts_a_session_is_among_those_who_have_joined(rng):
    config = PopulationConfig(users=1_000, new_user_share=0.5, anonymous_share=0.25)
    population = build_population(config, ExposureConfig(), 0, 10**9, rng)
    starts = np.sort(rng.integers(0, 10**9, 20_000))
    sessions = draw_sessions(population, config, starts, rng)
    assert np.all(population.join_us[sessions.user] <= starts)
    assert within_99(sessions.anonymous.sum(), len(starts), 0.25)
    # the share of activity present grows as new users join
    share = population.joined_share(np.array([0, 5 * 10**8, 10**9]))
    assert 0 < share[0] < share[1] < share[2] == 1.0


def test_anonymous_sessions_show_the_user_from_the_login_on(rng):
    events = Chain(FunnelConfig()).run(5_000, rng)
    anonymous = np.arange(5_000) % 2 == 0
    visible = visible_users(PopulationConfig(login_share=1.0), anonymous, events, rng)
    known = ~anonymous[events.session]
    assert visible[known].all()
    # every anonymous session of two or more events logs in after its first event
    first = events.step == 0
    assert not visible[first & ~known].any()
    long_enough = events.lengths[events.session] >= 2
    last = np.append(first[1:], True)  # the last event of each session
    assert visible[last & ~known & long_enough].all()
    assert not visible[~known & ~long_enough].any()  # one event: no time to log in
    # once logged in, the session stays known
    assert np.all(np.diff(visible.astype(int))[~first[1:]] >= 0)
    never = visible_users(PopulationConfig(login_share=0.0), anonymous, events, rng)
    assert not never[~known].any()


def test_population_configs_name_the_bad_field():
    with pytest.raises(ConfigError) as error:
        PopulationConfig(personas=(PersonaConfig(name="a"), PersonaConfig(name="a")))
    assert error.value.allowed == "unique persona names"
    with pytest.raises(ConfigError) as error:
        PopulationConfig(anonymous_share=1.5)
    assert (error.value.field, error.value.value) == ("anonymous_share", 1.5)
    with pytest.raises(ConfigError) as error:
        PersonaConfig(name="a", affinities={"books": -1})
    assert error.value.field == "affinities.books"
