"""The online models: update semantics and bounded memory (pure logic, exact)."""

from __future__ import annotations

import math

import pytest

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
