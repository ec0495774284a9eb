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


@pytest.mark.slow
def test_the_real_log_is_matched_to_the_issues_targets():
    real = movielens()
    config = fit(real, timezone="America/Chicago")
    assert config.population.users == 943 and config.catalog.items == 1682
    synthetic = simulate(config, rng=0)
    report = realism_report(real, synthetic, timezone="America/Chicago")
    distance = report.table.set_index("distribution")["distance"]
    for name in ("sessions_per_user", "events_per_session", "gaps_in_session"):
        assert distance[name] <= 0.05, (name, distance[name])  # KS
    for name in ("hourly_profile", "weekday_profile"):
        assert distance[name] <= 0.05, (name, distance[name])  # total variation
    assert distance["top_1pct_share"] <= 0.10  # relative
    assert report.passed, report.failures()
