"""The online models: update semantics and bounded memory (pure logic, exact)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize_sim.errors import ConfigError
from personalize_sim.online import OnlineModels, RecommenderSpec


def items(pairs: list[tuple[str, float]]) -> list[str]:
    return [item for item, _ in pairs]


def test_trending_decays_with_its_half_life_in_event_time() -> None:
    models = OnlineModels(half_life=100.0)
    for _ in range(4):
        models.observe("u", "old", 0.0)
    models.observe("v", "new", 200.0)  # two half-lives later: old is worth 4 / 4 = 1
    scores = models.scores("trending")
    assert scores["old"] == pytest.approx(1.0) and scores["new"] == pytest.approx(1.0)
    models.observe("w", "new", 200.0)
    assert items(models.recommend("trending", n=2)) == ["new", "old"]
    assert items(models.recommend("popularity", n=2)) == ["old", "new"]  # all-time: 4 > 2


def test_co_occurrence_counts_pairs_within_a_users_recent_items() -> None:
    models = OnlineModels(recent_items=2)
    for item in ["a", "b", "c"]:  # c's window holds b only (recent_items=2 keeps a, b)
        models.observe("u", item, 0.0)
    assert models.links["c"] == {"a": 1, "b": 1}
    models.observe("u", "d", 0.0)  # the window is now b, c
    assert models.links["d"] == {"b": 1, "c": 1}


def test_memory_is_bounded_and_the_least_recent_goes_first() -> None:
    models = OnlineModels(max_items=3, max_users=2, max_neighbours=2)
    for n, item in enumerate(["a", "b", "c", "d"]):
        models.observe(f"u{n % 3}", item, float(n))
    assert list(models.counts) == ["b", "c", "d"] and "a" not in models.catalog
    assert all("a" not in links for links in models.links.values())
    assert list(models.recent) == ["u2", "u0"]  # u1 was the least recently active
    for item in ["x", "y", "z"]:
        models.observe("solo", item, 10.0)
    assert all(len(links) <= 2 for links in models.links.values())


def test_an_item_nobody_interacted_with_is_recommended_only_by_random() -> None:
    models = OnlineModels(rng=1)
    models.add_items(["cold"])
    for n, item in enumerate("abcabd"):
        models.observe(f"u{n % 2}", item, float(n))
    for kind in ("popularity", "trending", "user-personalization"):
        for user in ("u0", "u1", "stranger"):
            assert "cold" not in items(models.recommend(kind, user_id=user, n=100))
    for item in ["a", "b", "c", "d", "cold"]:
        assert "cold" not in items(models.recommend("similar-items", item_id=item, n=100))
    assert "cold" in items(models.recommend("random", n=100))


def test_scores_of_one_answer_sum_to_at_most_one() -> None:
    models = OnlineModels()
    for n, item in enumerate("aabbbc"):
        models.observe("u", item, float(n))
    total = sum(score for _, score in models.recommend("popularity", n=10))
    assert math.isclose(total, 1.0)


def test_specs_name_their_kind_and_arn() -> None:
    with pytest.raises(ConfigError, match="NAME=KIND"):
        RecommenderSpec.parse("top")
    with pytest.raises(ConfigError, match="name"):
        RecommenderSpec.parse("top/x=popularity")
    with pytest.raises(ConfigError, match="recent_items"):
        OnlineModels(recent_items=0)


# -- answers read off incrementally kept order equal a scan of the whole model ----------------

_events = st.lists(
    st.tuples(
        st.sampled_from(["u0", "u1", "u2", "u3", None]),
        st.sampled_from([f"i{n}" for n in range(12)]),
        st.floats(0.0, 2000.0),
    ),
    min_size=1,
    max_size=60,
)


def reference_trending(events: list[tuple[str | None, str, float]], half_life: float) -> dict:
    """Each item's decayed count at the latest event time, summed event by event."""
    now = max(at for _, _, at in events)
    found: dict[str, float] = {}
    for _, item, at in events:
        found[item] = found.get(item, 0.0) + 0.5 ** ((now - at) / half_life)
    return found


def assert_best_first(answer: list, scores: dict, n: int) -> None:
    """``answer`` holds the ``n`` best items of ``scores`` (ties by id), each with its share."""
    total = sum(scores.values())
    expected = sorted(scores, key=lambda item: (-scores[item], item))[:n]
    got = [item for item, _ in answer]
    for mine, theirs in zip(got, expected, strict=True):  # equal, or tied to the last bit
        assert scores[mine] == pytest.approx(scores[theirs], rel=1e-9)
    for item, share in answer:
        assert share == pytest.approx(scores[item] / total, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(_events, st.integers(1, 15))
def test_answers_equal_a_scan_of_every_item(events, n) -> None:
    models = OnlineModels(half_life=300.0, rng=0)
    for user, item, at in events:
        models.observe(user, item, at)
    counts = {item: float(sum(e[1] == item for e in events)) for _, item, _ in events}
    assert_best_first(models.recommend("popularity", n=n), counts, n)
    assert_best_first(models.recommend("trending", n=n), reference_trending(events, 300.0), n)
    for user in ["u0", "u1", "stranger"]:
        found = models.scores("user-personalization", user_id=user)
        history = set(models.recent.get(user, ()))
        personal = models.recommend("user-personalization", user_id=user, n=n)
        ranked = [item for item, _ in personal]
        expected = sorted(set(found) - history, key=lambda i: (-found[i], i))[:n]
        assert ranked[: len(expected)] == expected
        trending = [i for i, _ in models.recommend("trending", n=len(counts))]
        filled = [i for i in trending if i not in history and i not in expected]
        assert ranked[len(expected) :] == filled[: n - len(expected)]


@settings(max_examples=100, deadline=None)
@given(_events, st.integers(1, 6))
def test_the_sorted_views_follow_evictions(events, max_items) -> None:
    models = OnlineModels(max_items=max_items, max_users=2, max_neighbours=3, rng=0)
    for user, item, at in events:
        models.observe(user, item, at)
    held = models.counts
    assert sorted(models._by_count) == sorted((-c, i) for i, c in held.items())
    assert {i for _, i in models._by_heat} == set(held) == set(models._heat)
    assert models._total == sum(held.values())
    assert sorted(models._pool) == sorted(models.catalog)
    assert all(models._pool[slot] == item for item, slot in models.catalog.items())
    shares = [s for _, s in models.recommend("trending", n=len(held))]
    assert sum(shares) == pytest.approx(1.0)


def test_a_cold_user_is_ranked_by_trending_and_unknown_items_go_last() -> None:
    """GetPersonalizedRanking for a user with no history: never the input order as it is."""
    models = OnlineModels()
    for n, item in enumerate("aab"):
        models.observe(f"u{n}", item, float(n))
    ranked = items(models.rank("user-personalization", "cold", ["never", "b", "a"]))
    assert ranked == ["a", "b", "never"]
    models.observe("warm", "b", 5.0)
    models.observe("other", "b", 6.0)
    models.observe("other", "c", 7.0)  # c is b's neighbour: warm's own pick comes first
    assert items(models.rank("user-personalization", "warm", ["never", "a", "c"])) == [
        "c", "a", "never",
    ]  # fmt: skip


def test_random_samples_every_known_item_uniformly_and_replays() -> None:
    def draws(rng: int) -> list[list[str]]:
        models = OnlineModels(rng=rng, max_items=50)
        models.add_items(f"i{n}" for n in range(80))  # the first 30 are forgotten
        return [items(models.recommend("random", n=5)) for _ in range(200)]

    first = draws(3)
    assert first == draws(3)
    shown = {item for slate in first for item in slate}
    assert shown == {f"i{n}" for n in range(30, 80)}
    assert all(len(set(slate)) == 5 for slate in first)
