"""Configs: presets, YAML round trips, and a ConfigError naming field, value and rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing

import pytest

from personalize_sim import ConfigError, SimulationConfig
from personalize_sim.errors import ConfigTypeError
from personalize_sim.simulation import (
    ArmConfig,
    TrafficConfig,
    preset_names,
)
from personalize_sim.simulation._config import _build


def test_presets_ship_and_round_trip_through_yaml(tmp_path):
    assert {"retail", "video-on-demand"} <= set(preset_names())
    for name in preset_names():
        config = SimulationConfig.preset(name)
        assert config.name == name
        path = tmp_path / f"{name}.yaml"
        config.to_yaml(path)
        assert SimulationConfig.from_yaml(path) == config
        assert SimulationConfig.from_yaml(config.to_yaml()) == config


def test_replace_understands_shorthands_and_paths():
    start = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    config = SimulationConfig.preset("retail").replace(
        users=123, days=3, start=start.isoformat(), rng=9, catalog__zipf_exponent=1.3
    )
    assert config.population.users == 123
    assert config.time.days == 3.0
    assert config.time.start == start
    assert config.rng == 9
    assert config.catalog.zipf_exponent == 1.3
    with pytest.raises(ConfigError) as error:
        config.replace(userz=5)
    assert error.value.field == "userz"
    assert "users" in error.value.allowed


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        SimulationConfig.from_yaml(text)
    return caught.value


def test_probabilities_must_sum_to_one():
    error = error_of(
        "funnel:\n  event_types: [{name: View, new_item: true}]\n"
        "  start: {View: 1.0}\n  transitions: {View: {View: 0.5, exit: 0.4}}\n"
    )
    assert error.field == "funnel.transitions.View"
    assert error.value == [0.5, 0.4]
    assert "sum to 1" in error.allowed and "0.9" in error.allowed


def test_negative_rate_is_refused():
    error = error_of("time: {sessions_per_user_per_day: -1}")
    assert (error.field, error.value) == ("time.sessions_per_user_per_day", -1)
    assert ">= 0" in error.allowed


def test_unknown_event_type_in_transitions_names_the_known_ones():
    error = error_of(
        "funnel:\n  event_types: [{name: View, new_item: true}, {name: Purchase}]\n"
        "  start: {View: 1.0}\n"
        "  transitions: {View: {Purchse: 0.2, exit: 0.8}, Purchase: {exit: 1.0}}\n"
    )
    assert error.field == "funnel.transitions.View.Purchse"
    assert "View, Purchase" in error.allowed


def test_exit_must_be_reachable():
    with pytest.raises(ConfigError) as error:
        SimulationConfig.from_yaml(
            "funnel:\n  event_types: [{name: View, new_item: true}]\n"
            "  start: {View: 1.0}\n  transitions: {View: {View: 1.0}}\n"
        )
    assert error.value.field == "funnel.transitions"


def test_unknown_preset_lists_the_shipped_ones():
    with pytest.raises(ConfigError) as error:
        SimulationConfig.preset("grocery")
    assert error.value.field == "preset"
    assert "retail" in error.value.allowed and "video-on-demand" in error.value.allowed


def test_malformed_yaml_says_where():
    error = error_of("time: {days: 3\nfunnel: [")
    assert error.field == "yaml"
    assert "line" in error.allowed


def test_unknown_keys_and_wrong_shapes_are_named_with_their_path():
    error = error_of("exposure:\n  arms:\n    - {name: a, wieght: 1}\n")
    assert error.field == "exposure.arms[0].wieght"
    assert "weight" in error.allowed
    assert error_of("population: [1, 2]").field == "population"
    assert error_of("catalog: {categories: [{name: a, weight: -2}]}").field == (
        "catalog.categories[0].weight"
    )


def test_timezone_and_start_are_checked():
    assert error_of("time: {timezone: Mars/Olympus}").field == "time.timezone"
    assert error_of("time: {start: 'yesterday'}").field == "time.start"


def test_a_callable_recommender_cannot_be_saved():
    config = SimulationConfig().replace(
        exposure__arms=(ArmConfig(name="mine", recommender=lambda context: None),)
    )
    with pytest.raises(ConfigError) as error:
        config.to_yaml()
    assert error.value.field == "exposure.arms.recommender"


def test_wrong_types_are_config_type_errors_with_their_path():
    error = error_of("population: {users: many}")
    assert isinstance(error, ConfigTypeError)
    assert (error.field, error.value) == ("population.users", "many")
    assert isinstance(error_of("exposure: {arms: {name: a}}"), ConfigTypeError)
    with pytest.raises(ConfigTypeError) as caught:
        SimulationConfig().replace(users=2.5)
    assert caught.value.field == "users"
    with pytest.raises(ConfigTypeError) as caught:
        SimulationConfig.from_dict(["not", "a", "mapping"])
    assert caught.value.field == "config"


def test_expected_events_per_day_follows_the_funnel_and_the_traffic():
    config = SimulationConfig()
    per_session = sum(config.funnel.expected_visits())
    assert config.expected_events_per_day() == pytest.approx(1_000 * 0.5 * per_session)
    assert config.replace(users=2_000).expected_events_per_day() == pytest.approx(
        2 * config.expected_events_per_day()
    )


def test_a_saved_seed_names_its_new_name():
    with pytest.raises(ConfigError, match="seed: got 3; rng: the seed is named rng everywhere"):
        SimulationConfig.from_dict({"seed": 3})
    assert SimulationConfig.from_dict({"rng": 3}).rng == 3


@dataclasses.dataclass(frozen=True)
class _Spelled:
    union: TrafficConfig | None = None
    optional: typing.Optional[TrafficConfig] = None  # noqa: UP045 (the spelling under test)
    many: typing.Tuple[float, ...] = ()  # noqa: UP006


def test_conversion_reads_resolved_types_so_any_spelling_of_optional_converts():
    """Nested configs are built from the resolved type, not the annotation's text: a field
    spelled ``Optional[TrafficConfig]`` converts as ``TrafficConfig | None`` does."""
    traffic = {"sessions_per_user": [1, 2, 9], "idle_gaps": [1800, 3600, 86400]}
    built = _build(_Spelled, {"union": traffic, "optional": traffic, "many": [1, 2]}, "")
    assert built.union == built.optional == TrafficConfig(**traffic)
    assert built.many == (1, 2)
    assert _build(_Spelled, {"optional": None}, "").optional is None
