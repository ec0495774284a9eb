"""One exception tree for personalize_sim.

::

    PersonalizeSimError
    ├── ConfigError       a simulation or stream configuration is invalid
    ├── PayloadError      events cannot become valid PutEvents requests (carries .problems)
    ├── DeliveryError     a stream could not deliver every event (carries .summary)
    └── EmulatorError     the local tracker could not start or answer

Misuse of the API (wrong argument types, calling a closed object) raises built-ins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ConfigError", "DeliveryError", "EmulatorError", "PayloadError", "PersonalizeSimError"]

_SHOWN_PROBLEMS = 10


class PersonalizeSimError(Exception):
    """Base class of every error personalize_sim raises on purpose."""


class ConfigError(PersonalizeSimError, ValueError):
    """A configuration value is not allowed; the message names the field, value and rule."""

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field}: got {value!r}; {allowed}")


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


class EmulatorError(PersonalizeSimError):
    """The local tracker emulator failed to start, or answered unexpectedly."""


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"
