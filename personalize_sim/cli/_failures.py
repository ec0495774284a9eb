"""How a failed command reads: one line (the first bad rows of an input among it) and an
exit code.

2 for usage, settings and input (nothing was done, or nothing was sent); 1 for delivery
failures. ``--debug`` re-raises instead, for the traceback.
"""

from __future__ import annotations

import argparse
import errno
from collections.abc import Collection, Mapping

from personalize_sim.errors import ConfigError, DeliveryError, PayloadError, PersonalizeSimError

__all__ = ["SHOWN_PROBLEMS", "UsageError", "exit_code", "explain", "option_strings", "printable"]


class UsageError(PersonalizeSimError):
    """A command line that cannot work as given (exit 2, nothing done); its message says why."""


#: bad rows named for an invalid input file
SHOWN_PROBLEMS = 3


def exit_code(error: BaseException) -> int:
    return 1 if isinstance(error, DeliveryError) else 2


def explain(
    error: BaseException,
    options: Collection[str],
    flags: Mapping[str, str] | None = None,
    source: str | None = None,
) -> list[str]:
    """The lines that tell a command-line user what went wrong and what to do.

    A :class:`ConfigError` names the flag that set the value when there is one (``flags``
    maps Python names that differ from a flag, e.g. ``deadline`` -> ``--retry-deadline``;
    otherwise ``max_attempts`` reads as ``--max-attempts`` when the command has it);
    invalid rows and a frame's problems name the ``source`` file they come from.

    >>> explain(ConfigError("max_attempts", 0, "an integer >= 1"), {"--max-attempts"})
    ['--max-attempts: got 0; an integer >= 1']
    >>> explain(FileNotFoundError(errno.ENOENT, "No such file or directory", "my.yaml"), ())
    ['my.yaml: No such file or directory']
    """
    if isinstance(error, PayloadError):
        return _payload_lines(error, "the input" if source is None else f"INPUT {source}")
    if isinstance(error, ConfigError):
        flag = (flags or {}).get(error.field) or "--" + error.field.replace("_", "-")
        if flag in options:
            return [str(ConfigError(flag, error.value, error.allowed))]
        if source is not None and error.field.split(".")[0] == "frame":  # the file's frame
            field = f"INPUT {source} {error.field[len('frame.') :]}".rstrip()
            return [str(ConfigError(field, error.value, error.allowed))]
        return [str(error)]
    cause = error if isinstance(error, OSError) else error.__cause__
    if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
        return [f"{error}: pick another --port (--port 0 picks a free one)"]
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return [f"{error.filename}: {error.strerror}"]
    return [str(error) or type(error).__name__]


def printable(line: str) -> str:
    r"""``line`` with each character a terminal would not show as one (a newline, a control
    character from a user's file) escaped, so a message stays one visible line.

    >>> print(printable("event types: a\x1eb, caf\u00e9"))
    event types: a\x1eb, café
    """
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


def _payload_lines(error: PayloadError, source: str) -> list[str]:
    """One line: how many rows are invalid, the first few with their limit, and the fix."""
    problems = error.problems
    n = len(problems)
    shown = "; ".join(
        f"row {p.row!r}, {p.field}: {p.reason}"
        + ("" if p.limit is None else f" (limit: {p.limit})")
        for p in problems.head(SHOWN_PROBLEMS).itertuples(index=False)
    )
    more = f"; … and {n - SHOWN_PROBLEMS:,} more" if n > SHOWN_PROBLEMS else ""
    return [
        f"{n:,} invalid row{'s' if n != 1 else ''} in {source}, nothing was sent: {shown}{more}; "
        "fix them, or pass --skip-invalid to send the valid rows"
    ]


def option_strings(parser: argparse.ArgumentParser) -> frozenset[str]:
    """Every option string a (sub)command accepts."""
    return frozenset(s for action in parser._actions for s in action.option_strings)


def flags_by_name(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The flag that sets each parsed name (``rng`` -> ``--seed``), for naming it in errors."""
    return {
        action.dest: max(action.option_strings, key=len)
        for action in parser._actions
        if action.option_strings and action.dest != "help"
    }
