"""fit and realism_report on bad logs: a clear error naming what is wrong, or a config
whose notes say what fell back to a default and why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim.calibration import fit, realism_report
from personalize_sim.errors import ConfigError
from personalize_sim.simulation import simulate


def _log(n=50, users=5, items=7, start=1_700_000_000):
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "USER_ID": [f"u{i % users}" for i in range(n)],
            "ITEM_ID": [f"i{rng.integers(items)}" for _ in range(n)],
            "TIMESTAMP": start + np.sort(rng.integers(0, 10 * 86_400, n)),
        }
    )


def test_missing_columns_are_named():
    with pytest.raises(ConfigError, match="ITEM_ID, TIMESTAMP \\(missing"):
        fit(pd.DataFrame({"USER_ID": ["a"]}))


def test_a_log_that_is_not_a_frame_is_refused():
    with pytest.raises(ConfigError, match="a pandas DataFrame"):
        fit([{"USER_ID": "a"}])


def test_an_empty_log_is_refused():
    with pytest.raises(ConfigError, match="at least one event"):
        fit(_log().iloc[:0])


def test_unparsable_timestamps_name_the_row():
    log = _log().astype({"TIMESTAMP": object})
    log.loc[3, "TIMESTAMP"] = "yesterday"
    with pytest.raises(ConfigError, match=r"TIMESTAMP\[3\]: got 'yesterday'.*1 rows"):
        fit(log)


def test_mixed_time_units_are_an_error_not_a_guess():
    log = _log()
    log.loc[5, "TIMESTAMP"] = log.loc[5, "TIMESTAMP"] * 1000  # milliseconds
    with pytest.raises(ConfigError, match=r"TIMESTAMP\[5\].*row 0 looks like s, row 5 like ms"):
        fit(log)


def test_every_epoch_unit_reads_the_same():
    seconds = _log()
    configs = [
        fit(seconds.assign(TIMESTAMP=seconds["TIMESTAMP"] * scale)) for scale in (1, 1000, 10**6)
    ]
    as_dates = fit(seconds.assign(TIMESTAMP=pd.to_datetime(seconds["TIMESTAMP"], unit="s")))
    assert all(c == configs[0] for c in configs[1:]) and as_dates == configs[0]


def test_null_users_are_refused_with_the_row():
    log = _log()
    log.loc[4, "USER_ID"] = None
    with pytest.raises(ConfigError, match=r"USER_ID: got 'null in row 4 \(1 rows\)'"):
        fit(log)


def test_a_bad_time_zone_is_named_before_any_work():
    with pytest.raises(ConfigError, match="timezone: got 'Mars/Olympus'"):
        fit(_log(), timezone="Mars/Olympus")


def test_a_single_user_fits_with_notes():
    config = fit(_log(users=1))
    assert config.population.users == 1
    assert any("one user" in note for note in config.traffic.notes)


def test_a_single_item_fits():
    config = fit(_log(items=1))
    assert config.catalog.items == 1 and config.exposure.slate_size == 1
    assert len(simulate(config, rng=0)) > 0


def test_too_few_events_keep_defaults_and_say_why():
    log = _log(n=2, users=2)  # two users, one event each: no gaps, nobody returns
    config = fit(log)
    notes = " ".join(config.traffic.notes)
    assert "time.gap: no session has two events" in notes
    assert "traffic.idle_gaps: fewer than two users come back" in notes
    assert config.time.gap.distribution == "lognormal"
    assert len(simulate(config, rng=0)) > 0


def test_a_short_log_has_no_drift_and_says_so():
    log = _log(n=40).assign(TIMESTAMP=lambda f: 1_700_000_000 + np.arange(40) * 60)
    config = fit(log)
    assert config.catalog.drift_sigma == 0.0
    assert any("less than two days" in note for note in config.traffic.notes)


def test_an_event_type_named_exit_is_refused():
    with pytest.raises(ConfigError, match="EVENT_TYPE: got 'exit'"):
        fit(_log().assign(EVENT_TYPE="exit"))


def test_realism_report_refuses_unknown_tolerances_and_non_frames():
    log = _log()
    with pytest.raises(ConfigError, match=r"tolerances\.gaps: got 0\.1; one of sessions_per_user"):
        realism_report(log, log, tolerances={"gaps": 0.1})
    with pytest.raises(ConfigError, match="synthetic: got 'list'"):
        realism_report(log, [])


def test_a_log_with_one_bucket_of_returning_users_fits():
    # every user comes back exactly once: one bucket of idle times (found by the benchmark)
    users = 60
    log = pd.DataFrame(
        {
            "USER_ID": [f"u{i}" for i in range(users) for _ in range(2)],
            "ITEM_ID": "x",
            "TIMESTAMP": [
                1_700_000_000 + i * 600 + k * 86_400 for i in range(users) for k in (0, 1)
            ],
        }
    )
    traffic = fit(log).traffic
    assert traffic.idle_buckets == (2.0,) and len(traffic.idle_gaps_by_sessions) == 1


def test_an_items_frame_adds_unseen_items_and_gives_new_items():
    log = _log(items=7)
    start = int(log["TIMESTAMP"].min())
    items = pd.DataFrame(
        {
            "ITEM_ID": [f"i{k}" for k in range(10)],  # 3 items no event touched
            # two created on the window's third day: new
            "CREATION_TIMESTAMP": [start - 86_400] * 8 + [start + 2 * 86_400] * 2,
        }
    )
    config = fit(log, items=items)
    assert config.catalog.items == 10
    assert config.catalog.new_item_share == pytest.approx(0.2)
    assert any("CREATION_TIMESTAMP" in note for note in config.traffic.notes)
    with pytest.raises(ConfigError, match="items: got 'list'; an items frame"):
        fit(log, items=[])
    bad = items.assign(CREATION_TIMESTAMP=items["CREATION_TIMESTAMP"].astype(object))
    bad.loc[2, "CREATION_TIMESTAMP"] = "soon"
    with pytest.raises(ConfigError, match=r"items\.CREATION_TIMESTAMP\[2\]: got 'soon'"):
        fit(log, items=bad)


def test_a_log_that_cannot_show_users_habits_falls_back_and_says_so():
    """Every user once, each on a different item, no values, all in one hour: nothing about
    users as people can be estimated; the fit says so and no field becomes NaN."""
    n = 300
    log = pd.DataFrame({
        "USER_ID": [f"u{i}" for i in range(n)], "ITEM_ID": [f"i{i}" for i in range(n)],
        "TIMESTAMP": 1_767_600_000 + np.arange(n) * 10,
    })  # fmt: skip
    config = fit(log)
    notes = " ".join(config.traffic.notes)
    assert "traffic.user_hours: fewer than 20 users come back" in notes
    assert "traffic.repeat_odds: nobody picks an item twice in the log; 0" in notes
    assert "catalog.items:" in notes  # items seen once: the catalog holds more (Chao1)
    assert config.traffic.repeat_odds == 0.0 and not config.traffic.user_hours
    assert "nan" not in config.to_yaml().lower()
    frame = simulate(config, rng=0)
    assert len(frame) > 0 and not frame.duplicated(["USER_ID", "ITEM_ID"]).any()
