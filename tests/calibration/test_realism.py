"""realism_report: distances that a wrong implementation would get wrong, and the real
log (MovieLens 100K) fitted and simulated to the issue's targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim.calibration import fit, realism_report
from personalize_sim.calibration._distances import js_divergence, ks_distance, total_variation
from personalize_sim.simulation import simulate

from .movielens import movielens


@pytest.fixture(scope="module")
def shop():
    frame = simulate("retail", users=400, days=7, rng=5, start="2026-01-05")
    return frame.assign(USER_ID=frame["true_user_id"])


def test_a_log_against_itself_is_at_distance_zero(shop):
    report = realism_report(shop, shop, timezone="America/New_York")
    assert report.passed
    assert (report.table["distance"] == 0).all()
    assert set(report.table["distribution"]) >= {
        "sessions_per_user", "events_per_session", "gaps_in_session", "idle_gaps",
        "hourly_profile", "weekday_profile", "top_1pct_share", "event_types", "transitions",
        "values:Purchase",
    }  # fmt: skip
    row = report.table.set_index("distribution").loc["hourly_profile"]
    assert row["metric"] == "TV" and row["n_real"] == row["n_synthetic"] > 0


def test_a_shifted_clock_fails_the_hourly_profile_only(shop):
    shifted = shop.assign(TIMESTAMP=shop["TIMESTAMP"] + pd.Timedelta(hours=6))
    report = realism_report(shop, shifted, timezone="America/New_York")
    assert report.failures() == ["hourly_profile"]
    distances = report.table.set_index("distribution")["distance"]
    assert distances["hourly_profile"] > 0.2 and distances["gaps_in_session"] == 0


def test_synthetic_times_are_floored_to_the_real_resolution():
    real = pd.DataFrame({"USER_ID": ["a"] * 3, "ITEM_ID": ["x"] * 3, "TIMESTAMP": [0, 0, 1]})
    syn = real.assign(TIMESTAMP=pd.to_datetime([0.0004, 0.0009, 1.2], unit="s", utc=True))
    row = realism_report(real, syn).table.set_index("distribution").loc["gaps_in_session"]
    assert row["distance"] == 0


def test_distances_match_hand_computed_values():
    assert ks_distance(np.array([1, 2, 3]), np.array([1, 2, 3, 4, 5, 6])) == pytest.approx(0.5)
    assert ks_distance(np.array([0, 0, 1]), np.array([0, 1, 1])) == pytest.approx(1 / 3)
    assert total_variation(np.array([3, 1]), np.array([1, 3])) == pytest.approx(0.5)
    assert js_divergence(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert js_divergence(np.array([1, 1]), np.array([2, 2])) == pytest.approx(0.0)


#: rows whose distance a model of users as people cannot bring under the default tolerance
#: on a log of this size, with the measurement that says why (docs/explanations/realism.md):
#: the hourly profile of MovieLens' 943 users, each at their own hours, differs from a
#: resample of the same users by TV 0.045 (median; 0.050 at the 90th percentile), and the
#: concentration of 381 returning users' hours by KS 0.039 (0.060): that is the noise floor
REAL_LOG_TOLERANCES = {"hourly_profile": 0.08, "hour_concentration": 0.10}


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_the_real_log_is_matched_row_by_row(seed):
    real = movielens()
    config = fit(real, timezone="America/Chicago")
    assert config.population.users == 943
    synthetic = simulate(config, rng=seed)
    report = realism_report(
        real, synthetic, timezone="America/Chicago", tolerances=REAL_LOG_TOLERANCES
    )
    assert report.passed, str(report)
    distance = report.table.set_index("distribution")["distance"]
    # the issue's targets, by name: the users' own rows as well as the marginals
    for name in ("events_per_user", "items_per_user", "sessions_per_user", "idle_gaps"):
        assert distance[name] <= 0.05, (name, distance[name])
    assert distance["repeat_share"] <= 0.02  # nobody rates a film twice, in either
    assert distance["sessions_vs_length"] <= 0.15  # rare visitors rate many films at once
    assert distance["top_1pct_share"] <= 0.10


#: the round trip at 2,000 users and 14 days; rows that need more than the fitted model
#: holds name the reason (the closing note of issue 23 has the measurements)
ROUND_TRIP_TOLERANCES = {
    # the catalog's tail beyond the items the log shows is extrapolated (Chao1 is a lower
    # bound: 7,453 items fitted for 8,000): video-on-demand's events per item measured
    # 0.041-0.060 at seeds 0-3, 0.052-0.054 even with one persona, no slates, no drift
    "item_popularity": 0.07,
}


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["retail", "video-on-demand"])
@pytest.mark.parametrize("seed", [0, 1])
def test_a_fit_of_a_presets_traffic_simulates_it_again(preset, seed):
    real = simulate(preset, users=2000, days=14, rng=seed, start="2026-01-05")
    real = real.assign(USER_ID=real["true_user_id"])
    config = fit(real, timezone="America/New_York")
    synthetic = simulate(config, rng=seed + 100)
    report = realism_report(
        real, synthetic, timezone="America/New_York", tolerances=ROUND_TRIP_TOLERANCES
    )
    assert report.passed, str(report)
    distance = report.table.set_index("distribution")
    # the funnel is walked as the log's sessions were, to the last event
    assert distance.loc["worst_transition", "distance"] <= 0.10
