"""The configs' own checks: names, probability vectors, named items."""

from __future__ import annotations

import pytest

from personalize_sim import ConfigError
from personalize_sim.errors import ConfigTypeError
from personalize_sim.simulation import CategoryConfig
from personalize_sim.simulation._config_checks import (
    distribution,
    named_items,
    unique_names,
    valid_name,
)


@pytest.mark.parametrize("name", ["a", "Top picks", "x" * 256, "rec-for-you_2"])
def test_printable_names_pass(name):
    assert valid_name(name, "name") == name


@pytest.mark.parametrize("name", ["", " a", "a ", "x" * 257, "caf\u00e9", "tab\there", 7, None])
def test_other_names_are_refused(name):
    with pytest.raises(ConfigError) as error:
        valid_name(name, "arms[0].name")
    assert error.value.field == "arms[0].name"


def test_distributions_sum_to_one_within_decimal_rounding():
    assert distribution([0.1, 0.2, 0.7], "start") == (0.1, 0.2, 0.7)
    assert distribution((1 / 3, 1 / 3, 1 / 3), "start") == (1 / 3, 1 / 3, 1 / 3)
    with pytest.raises(ConfigError) as error:
        distribution([0.5, 0.4], "transitions.View")
    assert error.value.field == "transitions.View" and "0.9" in error.value.allowed
    with pytest.raises(ConfigError) as error:
        distribution([1.5, -0.5], "start")
    assert error.value.field == "start[1]"
    with pytest.raises(ConfigTypeError) as error:
        distribution(["half", 0.5], "start")
    assert error.value.field == "start[0]"


def test_named_items_are_a_non_empty_tuple_with_unique_names():
    books, toys = CategoryConfig(name="books"), CategoryConfig(name="toys")
    named_items((books, toys), "categories", "category")
    unique_names((), "properties", "property")
    for items, allowed in [
        ((), "at least one category"),
        ([books], "at least one category"),
        ((books, books), "unique category names"),
    ]:
        with pytest.raises(ConfigError) as error:
            named_items(items, "categories", "category")
        assert (error.value.field, error.value.allowed) == ("categories", allowed)
