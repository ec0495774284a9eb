"""One validation style: the project's error, naming the argument, the value and what is allowed."""

import math
import pickle

import pytest

from personalize_sim import ConfigError, PersonalizeSimError
from personalize_sim._checks import count, instance, number, one_of, positive, probability
from personalize_sim.errors import ConfigTypeError


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: positive(0, "rate"), ConfigError, "rate: got 0; a finite number > 0"),
        (lambda: positive(math.inf, "rate"), ConfigError, "rate: got inf; a finite number > 0"),
        (lambda: positive("5", "rate"), ConfigTypeError, "rate: got '5'; a finite number > 0"),
        (lambda: number(2, "p", low=0, high=1), ConfigError,
         "p: got 2; a finite number >= 0 and <= 1"),
        (lambda: probability(1.5, "share"), ConfigError,
         "share: got 1.5; a probability between 0 and 1"),
        (lambda: count(2.0, "n", low=1), ConfigTypeError, "n: got 2.0; an integer >= 1"),
        (lambda: count(False, "n"), ConfigTypeError, "n: got False; an integer >= 0"),
        (lambda: one_of("x", "per", ("requests", "events")), ConfigError,
         "per: got 'x'; one of 'requests', 'events'"),
        (lambda: instance(3, "retry", str, "a RetryPolicy"), ConfigTypeError,
         "retry: got 3; a RetryPolicy"),
    ],
)  # fmt: skip
def test_a_bad_argument_names_itself_its_value_and_the_rule(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message
    assert type(info.value) is error


def test_good_values_come_back_normalised():
    assert positive(3, "rate") == 3.0 and type(positive(3, "rate")) is float
    assert number(math.inf, "deadline", low=0, finite=False) == math.inf
    assert count(4, "n") == 4 and probability(1, "p") == 1.0


def test_the_errors_are_also_builtins_and_travel_between_processes():
    value_error, type_error = ConfigError("a", 1, "b"), ConfigTypeError("a", "1", "b")
    assert isinstance(value_error, ValueError) and isinstance(value_error, PersonalizeSimError)
    assert isinstance(type_error, TypeError) and isinstance(type_error, ConfigError)
    again = pickle.loads(pickle.dumps(type_error))
    assert type(again) is ConfigTypeError and (again.field, again.value, again.allowed) == (
        "a",
        "1",
        "b",
    )
