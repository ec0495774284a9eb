"""The arithmetic the scale-out modules share: shares, rates, ledgers (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personalize_sim import ConfigError
from personalize_sim.scale import Ledger
from personalize_sim.scale._shares import (
    replay_rates,
    share_bounds,
    split_rate,
    users_for_rate,
)
from personalize_sim.streaming import ramp


@given(st.integers(1, 500), st.integers(1, 50))
def test_shares_are_disjoint_and_cover_everything(total, workers):
    if workers > total:
        with pytest.raises(ConfigError, match=f"at most {total}"):
            share_bounds(total, 0, workers)
        return
    shares = [share_bounds(total, i, workers) for i in range(workers)]
    assert [i for s in shares for i in s] == list(range(total))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_a_worker_index_out_of_range_is_refused():
    with pytest.raises(ConfigError, match="worker index"):
        share_bounds(10, 2, 2)


def test_a_schedule_is_split_by_scaling_it():
    half = split_rate(ramp(10, 100, over=10), 2)
    assert half.cursor().rate_at(0) == 5 and half.cursor().rate_at(20) == 50


def test_users_round_up_to_reach_the_rate():
    assert [users_for_rate(r, 3.0) for r in (1, 3, 3.1, 300)] == [1, 1, 2, 100]


def test_replay_rates_count_requests_per_wall_second():
    assert replay_rates([0.0, 0.2, 3.0, 3.9, 7.9], speedup=4.0) == [4.0, 1.0]
    with pytest.raises(ConfigError, match="at least one request"):
        replay_rates([])


def test_the_ledger_balances_only_when_every_event_is_somewhere():
    good = Ledger.merge([{"input_events": 10, "delivered_events": 7, "dead_letter_events": 1,
                          "unsent_events": 2}])  # fmt: skip
    assert good.balanced and not good.complete
    lost = Ledger.merge([{"input_events": 10, "delivered_events": 7}])
    assert not lost.balanced
    broken_share = Ledger.merge([{"input_events": 1, "delivered_events": 1, "balanced": False}])
    assert not broken_share.balanced
    whole = Ledger.merge([{"input_events": 3, "delivered_events": 2, "resumed_events": 1}])
    assert whole.complete and whole.to_dict()["complete"] is True
    assert "3 of 3 events delivered (1 by an earlier attempt)" in str(whole)
