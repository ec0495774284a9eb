"""The real-time closed loop: sessions on the schedule, events through the streaming layer."""

from __future__ import annotations

from personalize_sim.closed_loop import LoopConfig, realtime_loop
from personalize_sim.streaming import RetryPolicy
from personalize_sim.tracker import LocalTracker


def test_sessions_stream_their_events_and_later_users_see_what_earlier_ones_did() -> None:
    config = LoopConfig(users=40, items=20, days=1, sessions_per_day=2)
    kinds = {"top": "popularity", "mine": "user-personalization"}
    with LocalTracker(process=False, max_tps=0, rng=0, recommenders=kinds) as tracker:
        result = realtime_loop(
            config,
            tracker.runtime_client(),
            tracker.recommender_arns,
            events_target=tracker.client(),
            tracking_id=tracker.tracking_id,
            speedup=21_600,  # the day in four seconds
            retry=RetryPolicy(max_attempts=3, base=0.01),
            rng=0,
        )
        stored = tracker.events()
        recommendations = tracker.recommendations()
        issued = set(recommendations["RECOMMENDATION_ID"])
    loop = result.loop
    assert result.delivery.delivered_events == len(loop.events) == len(stored)
    assert loop.failed_slates == 0 and result.slate_counts["attempts"] == len(loop.slates)
    assert set(stored["RECOMMENDATION_ID"].dropna()) <= issued
    assert loop.slates["ITEMS"].map(len).iloc[0] == 0  # nobody had clicked yet
    # learnt from earlier users: every slate asked once the tracker had received a click
    # holds items (by the tracker's own clock, so a loaded machine that delivers late only
    # moves the line)
    first_click = stored.loc[stored["EVENT_TYPE"] == "click", "RECEIVED_AT"].min()
    sizes = recommendations.set_index("RECOMMENDATION_ID")["ITEMS"].map(len)
    later = recommendations.loc[recommendations["ISSUED_AT"] > first_click, "RECOMMENDATION_ID"]
    assert len(later) >= 10 and sizes[later].min() > 0, sizes[later].tolist()
