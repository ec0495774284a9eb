"""The emulator's HTTP server: a bare ASGI app on uvicorn, and the reader of its ``/stats``.

This is the only module of the tracker that opens sockets. The app reads the
body, asks :class:`~._emulator.Emulator` what to answer, sleeps the injected
latency, commits accepted rows through :class:`~._store.GroupCommit` and only
then writes the 200. ``GET /stats`` answers the counters as JSON.

uvicorn runs on uvloop and httptools when they are installed, else on asyncio's
own loop and h11 (its standard fallbacks, which also run on Windows).

>>> server = TrackerServer(TrackerConfig(max_tps=0), db_path=":memory:", loop="asyncio")
>>> server.url.startswith("http://127.0.0.1:"), server.loop, server.http in ("httptools", "h11")
(True, 'asyncio', True)
>>> server.close()  # never run: release the socket
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import socket
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from personalize_sim._checks import one_of

from ._config import TrackerConfig
from ._emulator import MAX_BODY_BYTES, Emulator
from ._store import GroupCommit, Store

__all__ = ["TrackerApp", "TrackerServer", "fetch_stats"]

#: uvicorn's event loops and HTTP parsers: the fast one when installed, else the standard one
LOOPS = ("uvloop", "asyncio")
HTTP_PARSERS = ("httptools", "h11")

_JSON = [(b"content-type", b"application/json")]


class TrackerApp:
    """The ASGI application (``http`` and ``lifespan`` scopes)."""

    def __init__(self, emulator: Emulator, db_path: str | Path) -> None:
        self.emulator = emulator
        self.db_path = Path(db_path)
        self.committer: GroupCommit | None = None
        self.startup_error: Exception | None = None
        self._verify = emulator.config.verify_signature

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.committer = GroupCommit(Store(self.db_path))
                except Exception as exc:
                    self.startup_error = exc
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def close(self) -> None:
        """Commit whatever is pending and close the database."""
        if self.committer is not None:
            self.committer.flush()
            self.committer.store.close()
            self.committer = None

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= MAX_BODY_BYTES:  # past the limit keep reading, but stop keeping
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        method, path = scope["method"], scope["path"]
        if method == "GET" and path == "/stats":
            await self._reply(send, 200, list(_JSON), self.stats_json())
            return
        headers = (
            {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if self._verify
            else {}
        )
        query = scope.get("query_string", b"").decode("latin-1")
        emulator = self.emulator
        outcome = emulator.handle(method, path, headers, body, query=query, body_size=size)
        if outcome.latency_s > 0:
            await asyncio.sleep(outcome.latency_s)
        stored = 0
        if outcome.error_code is None and outcome.table is not None:
            try:
                assert self.committer is not None, "the store is closed"
                stored = await self.committer.commit(outcome.table, outcome.rows)
            except Exception as exc:  # the client must not see a 200 for rows not stored
                emulator.fail(outcome, 500, "InternalFailure", f"store failed: {exc!r}")
        emulator.finish(outcome, stored)
        await self._reply(send, outcome.status, outcome.headers, outcome.body)

    @staticmethod
    async def _reply(send: Any, status: int, headers: list, body: bytes) -> None:
        # an explicit length, as AWS sends; without it uvicorn would answer chunked
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def stats_json(self) -> bytes:
        import orjson

        stats = self.emulator.stats()
        stats["commits"] = 0 if self.committer is None else self.committer.commits
        return orjson.dumps(stats)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class TrackerServer:
    """One emulator bound to a socket; :meth:`run` blocks, :meth:`stop` is thread-safe.

    ``loop`` (``"uvloop"``, ``"asyncio"``) and ``http`` (``"httptools"``, ``"h11"``)
    choose uvicorn's event loop and HTTP parser; ``"auto"`` takes the first of each
    that is installed. The chosen names are the attributes ``loop`` and ``http``.
    """

    def __init__(
        self,
        config: TrackerConfig,
        *,
        db_path: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Any = None,
        loop: str = "auto",
        http: str = "auto",
    ) -> None:
        self.config = config
        self.loop = _installed(loop, "loop", LOOPS)
        self.http = _installed(http, "http", HTTP_PARSERS)
        self.app = TrackerApp(Emulator(config, clock=clock), db_path)
        self.socket = bind(host, port)
        self.host = host
        self.port = self.socket.getsockname()[1]
        self._server: Any = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(
        self, on_ready: Callable[[str], None] | None = None, *, exit_with_fd: int | None = None
    ) -> None:
        """Serve until :meth:`stop`, SIGINT or SIGTERM; flush the store; then return.

        ``on_ready(url)`` is called on the event loop once the server listens. With
        ``exit_with_fd`` it also stops when that file descriptor reaches end of file:
        a parent holding the other end of a pipe takes the emulator with it when it
        dies, so no orphan keeps the port.
        """
        import uvicorn

        config = uvicorn.Config(
            self.app,
            loop="none",  # our own loop (below): uvicorn would set a process-wide loop policy
            http=self.http,
            lifespan="on",
            log_config=None,  # never reconfigure the host program's logging
            log_level="warning",
            access_log=False,
            server_header=False,
            proxy_headers=False,  # a local emulator has no proxy in front; skip the middleware
            timeout_graceful_shutdown=5,
        )
        self._server = _uvicorn_server(config, on_ready=lambda: on_ready and on_ready(self.url))
        if exit_with_fd is not None:
            threading.Thread(
                target=self._stop_at_eof, args=(exit_with_fd,), name="tracker-eof", daemon=True
            ).start()
        if self._stop.is_set():
            self.close()
            return
        loop = _new_event_loop(self.loop)
        try:
            loop.run_until_complete(self._server.serve(sockets=[self.socket]))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self.close()

    def _stop_at_eof(self, fd: int) -> None:
        # a blocking read in a thread of its own: works for pipes on every platform
        with contextlib.suppress(OSError):
            while os.read(fd, 4096):
                pass
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True

    def close(self) -> None:
        """Flush the store and release the socket (after :meth:`run`, or instead of it)."""
        self.app.close()
        self.socket.close()


def _installed(choice: str, field: str, implementations: tuple[str, str]) -> str:
    """``choice``, or for ``"auto"`` the first of ``implementations`` that can be imported."""
    one_of(choice, field, ("auto", *implementations))
    if choice != "auto":
        return choice
    fast, standard = implementations
    return fast if importlib.util.find_spec(fast) is not None else standard


def _new_event_loop(kind: str) -> asyncio.AbstractEventLoop:
    """A fresh loop for this server only; the process's event loop policy stays as it was."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _uvicorn_server(config: Any, on_ready: Callable[[], None]) -> Any:
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


def fetch_stats(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The counters of the emulator at ``url`` (its ``GET /stats``)."""
    import json
    import urllib.request

    with urllib.request.urlopen(url + "/stats", timeout=timeout) as response:
        return json.loads(response.read())
