"""The seam with uvicorn: every name of uvicorn the emulator relies on, in one place.

uvicorn has no public hook for two things the emulator needs: bounding the time and the
size of a request's headers before the request is read (:func:`guarded_protocol`
subclasses its HTTP protocol classes, ``HttpToolsProtocol`` and ``H11Protocol``), and
learning when it listens while keeping signal handling to ourselves (:func:`uvicorn_server`
subclasses ``uvicorn.Server``). These are private, so pyproject.toml pins uvicorn to the
range tested, and ``tests/tracker/test_uvicorn_seam.py`` checks on whatever uvicorn is
installed that every name and behaviour used here is still there, naming what changed.
What the seam uses (:data:`RELIED_ON`):

- ``uvicorn.protocols.http.httptools_impl.HttpToolsProtocol`` and
  ``uvicorn.protocols.http.h11_impl.H11Protocol``: asyncio protocols
  (``connection_made``, ``data_received``, ``connection_lost``) with the attributes
  ``transport`` and ``cycle`` (None before the first request; ``cycle.response_complete``
  once a response is sent);
- ``uvicorn.Config(http=<protocol class>, loop="none", h11_max_incomplete_event_size=…)``;
- ``uvicorn.Server``: ``startup(sockets=)``, ``capture_signals()`` (a context manager
  around serving), ``should_exit``, ``force_exit``, ``serve(sockets=)``.

uvicorn runs on uvloop and httptools when they are installed, else on asyncio's own loop
and h11 (its standard fallbacks, which also run on Windows).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import signal
import threading
from collections.abc import Callable, Generator
from typing import Any

from personalize_sim._checks import one_of

from ._bodies import error_body

__all__ = [
    "HTTP_PARSERS",
    "LOOPS",
    "MAX_HEADER_BYTES",
    "RELIED_ON",
    "guarded_protocol",
    "installed",
    "new_event_loop",
    "uvicorn_config",
    "uvicorn_server",
]

#: request line and headers together, up to and including the blank line that ends them;
#: more is answered 431 and the connection closed before the rest is read (a signed
#: botocore request has about 1 KB of them)
MAX_HEADER_BYTES = 64 * 1024

#: uvicorn's event loops and HTTP parsers: the fast one when installed, else the standard one
LOOPS = ("uvloop", "asyncio")
HTTP_PARSERS = ("httptools", "h11")

_PROTOCOLS = {
    "httptools": ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol"),
    "h11": ("uvicorn.protocols.http.h11_impl", "H11Protocol"),
}
#: what this module uses of uvicorn's private classes, checked by the seam test
RELIED_ON = {
    "protocol methods": ("connection_made", "data_received", "connection_lost"),
    "protocol attributes": ("transport", "cycle"),
    "cycle attributes": ("response_complete",),
    "server methods": ("startup", "capture_signals", "serve"),
    "server attributes": ("should_exit", "force_exit"),
}
_END_OF_HEAD = b"\r\n\r\n"


def protocol_class(http: str) -> type:
    """uvicorn's own HTTP protocol class for ``"httptools"`` or ``"h11"``."""
    module, name = _PROTOCOLS[http]
    return getattr(importlib.import_module(module), name)


def guarded_protocol(http: str, header_timeout: float) -> type:
    """uvicorn's HTTP protocol class for ``http``, bounding what a connection may hold.

    While a connection waits for a request's headers (just opened, or after a response
    when the next request has begun to arrive), it must send them within
    ``header_timeout`` and in at most :data:`MAX_HEADER_BYTES`, counted exactly before
    the parser sees them; otherwise it is answered 408 or 431 and closed before more is
    read. An idle keep-alive connection is closed by uvicorn's own ``timeout_keep_alive``.
    """
    base = protocol_class(http)

    class GuardedProtocol(base):  # type: ignore[misc,valid-type]
        _deadline: asyncio.TimerHandle | None = None
        _header_bytes = 0
        _tail = b""  # the last bytes of the head so far: its end may straddle two reads

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._waiting():
                seen = self._tail + data
                end = seen.find(_END_OF_HEAD)
                head = self._header_bytes + (len(data) if end < 0 else end + 4 - len(self._tail))
                if head > MAX_HEADER_BYTES:
                    message = (
                        f"Request headers are larger than the maximum of {MAX_HEADER_BYTES} bytes"
                    )
                    self._refuse(431, "Request Header Fields Too Large", message)
                    return
                self._header_bytes += len(data)
                self._tail = seen[-3:]
            super().data_received(data)
            if not self._waiting():  # the usual case: whole headers in one read, no timer
                self._disarm()
            elif self._deadline is None:  # part of the headers came: the rest has a deadline
                self._arm()

        def _waiting(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            loop = asyncio.get_running_loop()
            self._deadline = loop.call_later(header_timeout, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._header_bytes = 0
            self._tail = b""

        def _too_slow(self) -> None:
            self._deadline = None
            if self._waiting() and not self.transport.is_closing():
                if self._header_bytes:
                    message = f"Request headers not received within {header_timeout:g} s"
                    self._refuse(408, "Request Timeout", message)
                else:
                    self.transport.close()

        def _refuse(self, status: int, reason: str, message: str) -> None:
            if self.transport.is_closing():
                return
            body = error_body(message)
            head = (
                f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                f"x-amzn-errortype: {reason.title().replace(' ', '')}\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode() + body)
            self.transport.close()
            self._disarm()

    return GuardedProtocol


def uvicorn_config(
    app: Any, *, http: str, header_timeout: float, idle_timeout: float, tls: tuple[Any, Any]
) -> Any:
    """uvicorn's Config for the emulator: our protocol class, our loop, quiet logging."""
    import uvicorn

    cert, key = tls
    return uvicorn.Config(
        app,
        loop="none",  # our own loop (new_event_loop): uvicorn would set a process-wide policy
        http=guarded_protocol(http, header_timeout),
        timeout_keep_alive=idle_timeout,  # type: ignore[arg-type]
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        lifespan="on",
        log_config=None,  # never reconfigure the host program's logging
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # a local emulator has no proxy in front; skip the middleware
        timeout_graceful_shutdown=5,
        ssl_certfile=cert,  # HTTPS when given (TrackerConfig checks the pair)
        ssl_keyfile=key,
    )


def installed(choice: str, field: str, implementations: tuple[str, str]) -> str:
    """``choice``, or for ``"auto"`` the first of ``implementations`` that can be imported."""
    one_of(choice, field, ("auto", *implementations))
    if choice != "auto":
        return choice
    fast, standard = implementations
    return fast if importlib.util.find_spec(fast) is not None else standard


def new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """A fresh loop for this server only; the process's event loop policy stays as it was."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def uvicorn_server(config: Any, on_ready: Callable[[], None]) -> Any:
    """uvicorn's Server, telling us when it listens and leaving signals to exit cleanly."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                on_ready()

        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            # uvicorn re-raises the caught signal after shutdown (so SIGTERM would end
            # the process with -15); the emulator instead exits 0 after flushing.
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            signals = (signal.SIGINT, signal.SIGTERM)
            previous = {s: signal.signal(s, self._exit) for s in signals}
            try:
                yield
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)

        def _exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

    return Server(config)
