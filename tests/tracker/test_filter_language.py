"""The filter expression parser: what it accepts, and where it says a malformed one breaks."""

from __future__ import annotations

import pytest

from personalize_sim.tracker._filter_language import (
    MAX_PLACEHOLDERS,
    FilterSyntaxError,
    Placeholder,
    filter_values_limits,
    parse_filter,
)


def test_every_element_parses() -> None:
    text = (
        "INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) AND Items.PRICE <= 9.5 OR Items.KIND "
        'NOT IN ("a", "b") IF CurrentUser.AGE >= 18 AND CurrentUser.TIER IN ("gold") | '
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")'
    )
    parsed = parse_filter(text)
    first, second = parsed.expressions
    assert first.include and not second.include and parsed.target == "ItemID"
    assert [len(group) for group in first.where] == [2, 1]  # AND binds tighter than OR
    assert first.where[0][0].values == (Placeholder("GENRE"),)
    assert first.where[0][1].op == "<=" and first.where[0][1].values == (9.5,)
    assert first.where[1][0].op == "NOT IN"
    assert [c.field for c in first.user] == ["AGE", "TIER"]
    assert second.where[0][0].values == ("*",) and parsed.placeholders == {"GENRE"}
    current = parse_filter("INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE")
    assert current.uses_current_item and current.expressions[0].where[0][0].current == "GENRE"
    actions = parse_filter('EXCLUDE ActionID WHERE ActionInteractions.EVENT_TYPE IN ("taken")')
    assert actions.target == "ActionID"


@pytest.mark.parametrize(
    "text",
    [  # as the Developer Guide writes them ("Action recommendation filter expression examples")
        "INCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ($EVENT_TYPE)",
        'EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ("NOT_TAKEN")',
        "INCLUDE ActionID WHERE Actions.VALUE > ($VALUE)",
        "EXCLUDE ActionID WHERE Actions.VALUE < ($VALUE) IF CurrentUser.MEMBERSHIP = $PREMIUM",
    ],
)
def test_the_guides_own_examples_parse(text: str) -> None:
    expression = parse_filter(text).expressions[0]
    assert expression.target == "ActionID"
    assert expression.dataset in ("Actions", "ActionInteractions")


@pytest.mark.parametrize(
    ("text", "position", "expected"),
    [
        ("", 0, "INCLUDE or EXCLUDE"),
        ('KEEP ItemID WHERE Items.A IN ("x")', 0, "INCLUDE or EXCLUDE"),
        ('INCLUDE Items WHERE Items.A IN ("x")', 8, "ItemID or ActionID"),
        ('INCLUDE ItemID Items.A IN ("x")', 15, "WHERE"),
        ('INCLUDE ItemID WHERE Items.A INN ("x")', 29, "IN, NOT IN"),
        ('INCLUDE ItemID WHERE Items.A IN ("x" "y")', 37, "',' or ')'"),
        ('INCLUDE ItemID WHERE Items.A IN ("x"', 36, "',' or ')'"),
        ('INCLUDE ItemID WHERE Items.PRICE < "cheap"', 35, "a number"),
        ('INCLUDE ItemID WHERE Interactions.FOO IN ("x")', 21, "EVENT_TYPE"),
        ('INCLUDE ItemID WHERE Items.A IN ("x") AND Interactions.EVENT_TYPE IN ("v")', 42, "Items"),
        ('INCLUDE ActionID WHERE Items.A IN ("x")', 23, "Actions or ActionInteractions"),
        ('INCLUDE ItemID WHERE Items.A IN ("*")', 33, "'*' is for EVENT_TYPE only"),
        ('INCLUDE ItemID WHERE Items.A IN ("x") extra', 38, "AND, OR, IF, '|'"),
        ('INCLUDE ItemID WHERE Items.A IN ("x") IF Items.B IN ("y")', 41, "CurrentUser"),
        ('INCLUDE ItemID WHERE Items.A IN ("x") # ', 38, "a keyword"),
    ],
)
def test_malformed_expressions_name_the_position(text: str, position: int, expected: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert caught.value.position == position and expected in caught.value.expected


def test_limits_come_from_botocore_and_the_guide() -> None:
    assert filter_values_limits()[0] == MAX_PLACEHOLDERS
    many = " AND ".join(f'Items.F{n} IN ("x")' for n in range(11))
    with pytest.raises(FilterSyntaxError, match="at most 10 distinct dataset fields"):
        parse_filter(f"INCLUDE ItemID WHERE {many}")
    placeholders = " AND ".join(f"Items.F IN ($P{n})" for n in range(26))
    with pytest.raises(FilterSyntaxError, match="at most 25 placeholders"):
        parse_filter(f"INCLUDE ItemID WHERE {placeholders}")


def test_a_kept_metadata_answer_follows_new_records() -> None:
    from personalize_sim.tracker._filters import FilterData, FilterSpec

    data = FilterData()
    spec = FilterSpec.parse("g=INCLUDE ItemID WHERE Items.GENRE IN ($G)")
    data.record("items", [("arn", "a", '{"genre": "drama"}', 0.0)])
    assert data.allowed(spec, {"G": '"drama"'}).ids == {"a"}
    assert data.allowed(spec, {"G": '"drama"'}).ids == {"a"}  # kept
    data.record("items", [("arn", "b", '{"genre": "drama"}', 0.0)])
    data.record("items", [("arn", "a", '{"genre": "comedy"}', 0.0)])  # the latest record wins
    assert data.allowed(spec, {"G": '"drama"'}).ids == {"b"}
    assert data.allowed(spec, {"G": '"comedy"'}).ids == {"a"}
