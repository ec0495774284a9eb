"""One exception tree for personalize_sim.

::

    PersonalizeSimError
    ├── ConfigError(ValueError)       an argument or configuration value is not allowed
    │   └── ConfigTypeError(TypeError)    … because it has the wrong type
    ├── PayloadError(ValueError)      events cannot become valid PutEvents requests (.problems)
    ├── DeliveryError                 a stream could not deliver every event (.summary)
    ├── SlateFailedError              a recommendation request failed for good (.code, .attempts)
    └── EmulatorError                 the local tracker could not start or answer

Every bad argument raises :class:`ConfigError` (or :class:`ConfigTypeError`), naming the
argument, the value and what is allowed; as they also subclass ``ValueError`` (and
``TypeError``), ``except ValueError`` keeps working. The checks live in
:mod:`personalize_sim._checks`. Calling an object in the wrong state (a closed tracker,
a stream never started) raises ``RuntimeError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ConfigError",
    "ConfigTypeError",
    "DeliveryError",
    "EmulatorError",
    "PayloadError",
    "PersonalizeSimError",
    "SlateFailedError",
]

_SHOWN_PROBLEMS = 10


class PersonalizeSimError(Exception):
    """Base class of every error personalize_sim raises on purpose."""


class ConfigError(PersonalizeSimError, ValueError):
    """An argument or configuration value is not allowed.

    ``field`` names it (a path such as ``funnel.transitions.View`` in a config), ``value``
    is what was given and ``allowed`` says what would be accepted.

    >>> raise ConfigError("rate", 0, "a number > 0")
    Traceback (most recent call last):
    ...
    personalize_sim.errors.ConfigError: rate: got 0; a number > 0
    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field}: got {_short(value, 200)}; {allowed}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, for worker processes
        return type(self), (self.field, self.value, self.allowed)


class ConfigTypeError(ConfigError, TypeError):
    """An argument has the wrong type (``except TypeError`` and ``except ConfigError`` catch it)."""


class PayloadError(PersonalizeSimError, ValueError):
    """Rows of an events frame break PutEvents limits.

    ``problems`` is the full report of :func:`personalize_sim.validate_events`
    (columns ``row, field, reason, value, limit``); the message shows the first few.
    """

    def __init__(self, problems: pd.DataFrame, *, what: str = "events frame") -> None:
        self.problems = problems
        n = len(problems)
        lines = [f"{n} problem{'s' if n != 1 else ''} in the {what}; nothing was sent:"]
        for p in problems.head(_SHOWN_PROBLEMS).itertuples(index=False):
            limit = "" if p.limit is None else f" (limit: {p.limit})"
            lines.append(f"  row {p.row!r}, {p.field}: {p.reason}, value {_short(p.value)}{limit}")
        if n > _SHOWN_PROBLEMS:
            lines.append(f"  … and {n - _SHOWN_PROBLEMS} more; see .problems for all of them")
        super().__init__("\n".join(lines))


class DeliveryError(PersonalizeSimError):
    """A stream ended with events that were not delivered."""

    def __init__(self, message: str, summary: Any = None) -> None:
        self.summary = summary
        super().__init__(message)


class SlateFailedError(PersonalizeSimError):
    """A slate (recommendation) request failed for good, after the retries its source allows.

    The closed loop catches it: the session goes on without a recommendation, counted.
    """

    def __init__(self, code: str, attempts: int) -> None:
        super().__init__(f"{code} after {attempts} attempt(s)")
        self.code, self.attempts = code, attempts

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.code, self.attempts)


class EmulatorError(PersonalizeSimError):
    """The local tracker emulator failed to start, or answered unexpectedly."""


def _short(value: Any, width: int = 60) -> str:
    if hasattr(value, "columns") and hasattr(value, "shape"):  # a DataFrame: its shape and columns
        rows, n = value.shape
        text = f"<DataFrame of {rows} rows: {', '.join(map(str, value.columns[:8]))}"
        text += ", …>" if n > 8 else ">"
    else:  # a numpy scalar reads as the number it holds
        numpy = type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0
        text = repr(value.item() if numpy else value)
    return text if len(text) <= width else text[: width - 1] + "…"
