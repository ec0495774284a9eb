"""TrackerConfig: every option once, validated, JSON round trip, command-line metadata."""

from __future__ import annotations

import dataclasses
import json

import pytest

from personalize_sim.errors import ConfigError, ConfigTypeError
from personalize_sim.tracker import TrackerConfig
from personalize_sim.tracker._config import DEFAULT_MAX_TPS, DEFAULT_TRACKING_ID
from personalize_sim.tracker._faults import Latency


@pytest.mark.parametrize(
    ("field", "value", "error", "message"),
    [
        ("max_tps", -1, ConfigError, "max_tps: got -1; a finite number >= 0"),
        ("max_tps", "5", ConfigTypeError, "max_tps: got '5'; a finite number >= 0"),
        ("throttle_status", 503, ConfigError, "throttle_status: got 503; one of 400, 429"),
        ("error_rate", 2, ConfigError, "error_rate: got 2; a probability between 0 and 1"),
        ("tracking_ids", [""], ConfigError, "tracking_ids: got ('',); non-empty strings"),
        ("tracking_ids", [1], ConfigTypeError, "tracking_ids: got (1,); non-empty strings"),
        ("tracking_ids", (), ConfigError, "tracking_ids: got (); non-empty strings"),
        ("latency_ms", "soon", ConfigError, "latency_ms: got 'soon'; a number of ms (5)"),
        ("error_statuses", (502,), ConfigError, "error_statuses: got (502,); a non-empty list"),
        ("error_statuses", 500, ConfigTypeError, "error_statuses: got 500; a non-empty list"),
        ("verify_signature", "yes", ConfigTypeError, "verify_signature: got 'yes'; True or"),
        ("rng", 1.5, ConfigTypeError, "rng: got 1.5; an integer >= 0"),
        ("rng", -1, ConfigError, "rng: got -1; an integer >= 0"),
        ("header_timeout", 0, ConfigError, "header_timeout: got 0; a finite number > 0"),
        ("idle_timeout", "x", ConfigTypeError, "idle_timeout: got 'x'; a finite number > 0"),
        ("allow_unsigned_remote", 1, ConfigTypeError, "allow_unsigned_remote: got 1; True or"),
    ],
)
def test_config_refuses_bad_values_naming_argument_value_and_allowed(field, value, error, message):
    with pytest.raises(error) as info:
        TrackerConfig(**{field: value})
    assert str(info.value).startswith(message)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)  # `except ValueError` keeps working


def test_a_bad_secret_is_named_by_type_never_echoed():
    with pytest.raises(ConfigTypeError) as info:
        TrackerConfig(secret_access_key=b"hunter2")
    assert "hunter2" not in str(info.value)
    assert "bytes" in str(info.value)


def test_config_keeps_the_secret_out_of_its_repr():
    assert "hunter2" not in repr(TrackerConfig(secret_access_key="hunter2"))


def test_config_normalises_spellings():
    config = TrackerConfig(
        tracking_ids="abc", max_tps=0, latency_ms="2..8", error_statuses=[503], throttle_status=429
    )
    assert config.tracking_ids == ("abc",)
    assert config.max_tps is None  # 0 means no quota
    assert config.latency_ms == Latency(kind="uniform", a=2.0, b=8.0)
    assert config.error_statuses == (503,)
    assert TrackerConfig(max_tps=5).max_tps == 5.0
    assert TrackerConfig().max_tps == DEFAULT_MAX_TPS
    assert TrackerConfig().tracking_id == DEFAULT_TRACKING_ID
    assert TrackerConfig(tracking_ids=["a", "b"]).tracking_id == "a"


def test_config_round_trips_through_json_exactly():
    config = TrackerConfig(
        tracking_ids=("a", "b"),
        max_tps=12.5,
        throttle_status=429,
        latency_ms="lognormal:1.2345678,50",  # more digits than Latency's str() keeps
        error_rate=0.125,
        error_statuses=(503,),
        verify_signature=True,
        access_key_id="AKID",
        secret_access_key="s3cret",
        rng=7,
    )
    again = TrackerConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.latency_ms.a == 1.2345678
    assert TrackerConfig.from_dict(TrackerConfig().to_dict()) == TrackerConfig()


def test_from_dict_refuses_what_is_not_a_config():
    with pytest.raises(ConfigError, match="TrackerConfig fields only"):
        TrackerConfig.from_dict({"max_tps": 1, "bogus": 2})
    with pytest.raises(ConfigTypeError):
        TrackerConfig.from_dict([1, 2])


def test_every_field_is_a_flag_or_comes_from_the_environment():
    for field in dataclasses.fields(TrackerConfig):
        meta = field.metadata
        assert meta["help"], field.name
        assert bool(meta["flag"]) != bool(meta["env"]), field.name
        if meta["flag"] and field.name != "rng":  # rng is --seed, as in every command
            assert meta["flag"].startswith("--" + field.name[:5].replace("_", "-")), field.name
    assert TrackerConfig.__dataclass_fields__["rng"].metadata["flag"] == "--seed"
    secrets = [f.name for f in dataclasses.fields(TrackerConfig) if f.metadata["env"]]
    assert secrets == ["access_key_id", "secret_access_key"]
