"""MemoryTarget: requests kept in a list; ``respond=`` scripts faults for tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._retry import CONNECTION_ERROR
from .._wire import Prepared
from .base import OK, Response, Target

__all__ = ["MemoryTarget"]


@dataclass(frozen=True, eq=False, repr=False)
class MemoryTarget(Target):
    """Keeps every delivered request in ``requests``; ``respond`` injects faults.

    ``respond(request, attempt)`` returns None (success), an error code such as
    ``"ThrottlingException"`` (sent as status 400, or 500 for ``InternalFailure`` /
    ``ServiceUnavailable``), or a :class:`Response`. ``attempt`` counts calls for that request id.
    """

    name = "memory"

    respond: Callable[[dict, int], Any] | None = None
    requests: list[dict] = field(init=False, default_factory=list)
    calls: dict[str, int] = field(init=False, default_factory=dict)

    async def send(self, prepared: Prepared) -> Response:
        n = self.calls[prepared.id] = self.calls.get(prepared.id, 0) + 1
        answer = None if self.respond is None else self.respond(dict(prepared.request), n)
        if isinstance(answer, str):
            status = 500 if answer in ("InternalFailure", "ServiceUnavailable") else 400
            if answer == CONNECTION_ERROR:
                status = 0
            answer = Response(status, answer, f"injected {answer}")
        if answer is None or answer.status == 200:
            self.requests.append(dict(prepared.request))
            return answer or OK
        return answer

    def __repr__(self) -> str:
        return f"MemoryTarget(requests={len(self.requests)})"
