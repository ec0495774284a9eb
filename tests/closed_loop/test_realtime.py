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
            speedup=86_400,  # the day in a second
            retry=RetryPolicy(max_attempts=3, base=0.01),
            rng=0,
        )
        stored = tracker.events()
        issued = set(tracker.recommendations()["RECOMMENDATION_ID"])
    loop = result.loop
    assert result.delivery.delivered_events == len(loop.events) == len(stored)
    assert loop.failed_slates == 0 and result.slate_counts["attempts"] == len(loop.slates)
    assert set(stored["RECOMMENDATION_ID"].dropna()) <= issued
    assert loop.slates["ITEMS"].map(len).iloc[0] == 0  # nobody had clicked yet
    assert loop.slates["ITEMS"].map(len).iloc[-10:].min() > 0  # learnt from earlier users
