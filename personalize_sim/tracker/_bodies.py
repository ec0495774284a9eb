"""A request body as the emulator reads it: its size, its JSON, its strings, its refusals.

:func:`parse_body` decodes strict JSON with orjson and falls back to the standard
library for what JSON allows but orjson does not keep; :func:`unicode_violations`
finds the strings no store can keep; :class:`RefusedError` carries the status, error code
and message a failed check answers; :func:`error_body` writes AWS's JSON error.

>>> parse_body(b'{"a": 1}')
({'a': 1}, True)
>>> [(v.path, v.value) for v in unicode_violations({"userId": "a\\ud800b"})]
[('userId', 'a\\\\ud800b')]
"""

from __future__ import annotations

from typing import Any

from personalize_sim import limits

__all__ = [
    "INVALID",
    "MAX_BODY_BYTES",
    "RefusedError",
    "body_too_large",
    "error_body",
    "parse_body",
    "unicode_violations",
]

#: The server stops keeping a body past this size. It bounds memory only: a valid
#: PutEvents body is at most 10 events × 10 KB, about 600 KB even when every character
#: is JSON-escaped as \\uXXXX, and PutItems properties (≤ 32000 chars × 10) fit too.
MAX_BODY_BYTES = 2 * 1024 * 1024
INVALID = "InvalidInputException"


class RefusedError(Exception):
    """A check failed: the request is answered with this status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.status, self.code, self.message = status, code, message


def error_body(message: str) -> bytes:
    """The body of an AWS JSON error: ``{"message": "..."}``."""
    import orjson

    try:
        return orjson.dumps({"message": message})
    except orjson.JSONEncodeError:  # an unpaired surrogate echoed from the request
        return orjson.dumps({"message": shown(message)})


def shown(text: str) -> str:
    """``text`` with each unpaired surrogate spelled as its JSON escape (``\\ud800``), the
    way the request wrote it: readable, and printable by any client."""
    return text.encode(errors="backslashreplace").decode()


def parse_body(body: bytes) -> tuple[Any, bool]:
    """The decoded JSON body and whether it is strict JSON, or a refusal (not JSON).

    orjson reads strict JSON. What it refuses is read again with the standard library,
    which also takes what JSON allows but orjson does not keep (unpaired surrogate escapes,
    numbers beyond a double, which become infinite) and ``NaN``: such a body is not
    strict, and its values are then checked like any other (a 400 naming the member).
    """
    import orjson

    try:
        return orjson.loads(body), True
    except orjson.JSONDecodeError as strict_error:
        import json

        try:
            return json.loads(body, parse_int=_json_int), False
        except (ValueError, RecursionError):
            pass
        raise RefusedError(
            400, INVALID, f"Request body is not valid JSON: {strict_error}"
        ) from None


def body_too_large(size: int) -> str:
    return f"Request body of {size} bytes is larger than the maximum of {MAX_BODY_BYTES} bytes"


def _json_int(text: str) -> int | float:
    # Python refuses ints over 4300 digits; past 308 digits a double is (nearly) infinite anyway
    return int(text) if len(text) <= 308 else float(text)


def unicode_violations(value: Any, path: str = "") -> list[limits.Violation]:
    """Strings (keys too) holding unpaired surrogates, which no store or reader can keep;
    the value is shown with each surrogate as its JSON escape (:func:`shown`)."""
    found = []
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            found.append(limits.Violation(path, "not_unicode", shown(value)))
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            found += unicode_violations(key, child) + unicode_violations(item, child)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += unicode_violations(item, f"{path}[{i}]")
    return found
