import math

import numpy as np
import pytest

from personalize_sim.errors import ConfigError, ConfigTypeError
from personalize_sim.streaming._retry import CONNECTION_ERROR, RetryPolicy, classify


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (200, "", "ok"),
        (400, "ThrottlingException", "throttled"),
        (429, "", "throttled"),
        (500, "InternalFailure", "server_error"),
        (503, "ServiceUnavailable", "server_error"),
        (0, CONNECTION_ERROR, "connection_error"),
        (400, "InvalidInputException", "client_error"),
        (403, "InvalidClientTokenId", "client_error"),
        (0, "TargetError", "client_error"),
    ],
)
def test_classify(status, code, expected):
    assert classify(status, code) == expected


def test_invalid_input_is_never_retried():
    policy = RetryPolicy(max_attempts=50)
    d = policy.decide(attempt=1, status=400, error_code="InvalidInputException", elapsed=0, rng=0)
    assert d.action == "dead_letter"
    assert "InvalidInputException" in d.reason


def test_full_jitter_draws_uniformly_below_the_exponential_ceiling():
    policy = RetryPolicy(base=0.1, cap=1.0)
    rng = np.random.default_rng(3)
    expected = np.random.default_rng(3)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        assert policy.backoff(attempt, rng) == expected.uniform(0, ceiling)


def test_retries_until_max_attempts_then_dead_letters():
    policy = RetryPolicy(max_attempts=3, base=0.01, deadline=math.inf)
    rng = np.random.default_rng(0)
    actions = [
        policy.decide(attempt=a, status=503, error_code="ServiceUnavailable", elapsed=0, rng=rng)
        for a in (1, 2, 3)
    ]
    assert [d.action for d in actions] == ["retry", "retry", "dead_letter"]
    assert "after 3 attempts" in actions[-1].reason
    assert all(0 <= d.delay <= 0.02 for d in actions[:2])


def test_deadline_stops_retries_that_would_start_too_late():
    policy = RetryPolicy(base=10.0, cap=10.0, deadline=5.0)
    # a fixed rng whose first draw is above 1 s: 4.5 s elapsed + delay > 5 s deadline
    rng = np.random.default_rng(1)
    delay = np.random.default_rng(1).uniform(0, 10.0)
    assert delay > 0.5
    d = policy.decide(attempt=1, status=400, error_code="ThrottlingException", elapsed=4.5, rng=rng)
    assert d.action == "dead_letter"
    assert "deadline" in d.reason


def test_success_is_delivered():
    assert RetryPolicy().decide(attempt=4, status=200, error_code="", elapsed=99, rng=0).action == (
        "delivered"
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_attempts": 0}, ConfigError),
        ({"max_attempts": 2.5}, ConfigTypeError),
        ({"base": 0}, ConfigError),
        ({"cap": -1}, ConfigError),
        ({"deadline": float("nan")}, ConfigError),
    ],
)
def test_bad_policies_name_the_argument(kwargs, error):
    (name,) = kwargs
    with pytest.raises(error, match=rf"^{name}: got"):
        RetryPolicy(**kwargs)


def test_no_deadline_is_allowed():
    assert RetryPolicy(deadline=math.inf).deadline == math.inf
