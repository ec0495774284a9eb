"""The emulator's HTTP server: a bare ASGI app on uvicorn, and the reader of its ``/stats``.

With :mod:`._uvicorn` (every use of uvicorn's internals), the only module of the tracker
that opens sockets. The app reads the
body, asks :class:`~._emulator.Emulator` what to answer, sleeps the injected
latency, commits accepted rows through :class:`~._store.GroupCommit` and only
then writes the 200. ``GET /stats`` answers the counters as JSON.

What a connection may hold is bounded before it is read: headers to
:data:`MAX_HEADER_BYTES` (431) and ``header_timeout`` (408), a body to
``MAX_BODY_BYTES`` (413, judged from ``Content-Length``), an idle keep-alive
connection to ``idle_timeout``; each refusal closes the connection. A store that
fails (disk full, read-only) answers 500 ``InternalFailure`` naming the cause.
A non-loopback host needs ``verify_signature`` or ``allow_unsigned_remote``.

uvicorn runs on uvloop and httptools when they are installed, else on asyncio's
own loop and h11 (its standard fallbacks, which also run on Windows). On a store that
holds an earlier run's rows, startup continues it (:meth:`Emulator.resume`): fresh id
streams, and the runtime's models relearnt before the server listens.

>>> server = TrackerServer(TrackerConfig(max_tps=0), db_path=":memory:", loop="asyncio")
>>> server.url.startswith("http://127.0.0.1:"), server.loop, server.http in ("httptools", "h11")
(True, 'asyncio', True)
>>> server.close()  # never run: release the socket
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._binding import check_binding
from ._bodies import MAX_BODY_BYTES
from ._config import TrackerConfig
from ._emulator import Emulator, Outcome
from ._store import GroupCommit, StorageError, Store
from ._uvicorn import (
    HTTP_PARSERS,
    LOOPS,
    MAX_HEADER_BYTES,
    installed,
    new_event_loop,
    uvicorn_config,
    uvicorn_server,
)

__all__ = ["MAX_HEADER_BYTES", "TrackerApp", "TrackerServer", "bind", "fetch_stats"]

_JSON = [(b"content-type", b"application/json")]


class TrackerApp:
    """The ASGI application (``http`` and ``lifespan`` scopes)."""

    def __init__(self, emulator: Emulator, db_path: str | Path) -> None:
        self.emulator = emulator
        self.db_path = Path(db_path)
        self.committer: GroupCommit | None = None
        self.startup_error: Exception | None = None
        #: what went wrong closing the store (a full disk at shutdown), for the summary
        self.shutdown_problem: str | None = None
        #: (events relearnt, seconds it took) when the store held events at start
        self.restored: tuple[int, float] | None = None
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
                    self._resume(self.committer.store)
                except Exception as exc:
                    self.startup_error = exc
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _resume(self, store: Store) -> None:
        """Continue an earlier run's store: fresh id streams, and the models relearnt, before
        the server listens (about 30 µs of CPU per stored event, ``benchmarks/runtime.py``)."""
        started = time.perf_counter()
        generation = store.generation()
        learnt = self.emulator.resume(
            generation=generation,
            records=store.records() if generation else (),
            events=store.history() if generation else (),
        )
        if generation:
            self.restored = (learnt, time.perf_counter() - started)

    def close(self) -> None:
        """Commit whatever is pending and close the database."""
        if self.committer is not None:
            self.committer.flush()
            self.shutdown_problem = self.committer.store.close()
            self.committer = None

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        declared = 0
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else 0  # the parser vetted it
        if declared > MAX_BODY_BYTES:  # refuse before reading it, and drop the connection
            await self._too_large(scope, send, declared)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:  # chunked, no length: stop at the limit
                await self._too_large(scope, send, size)
                return
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
        outcome = self.emulator.handle(method, path, headers, body, query=query, body_size=size)
        if outcome.latency_s > 0:
            await asyncio.sleep(outcome.latency_s)
        stored = 0
        if outcome.error_code is None and outcome.table is not None:
            stored = await self._store(outcome)
        self.emulator.finish(outcome, stored)
        await self._reply(send, outcome.status, outcome.headers, outcome.body)

    async def _store(self, outcome: Outcome) -> int:
        """Commit the outcome's rows; on failure turn it into the error the client must see."""
        try:
            if self.committer is None:
                raise StorageError(RuntimeError("the store is closed"))
            return await self.committer.commit(outcome.table or "", outcome.rows)
        except StorageError as exc:  # never a 200 for rows not stored
            message = f"The event store failed, nothing was stored: {exc}"
            self.emulator.counters["store_failures"] += 1
            self.emulator.fail(outcome, 500, "InternalFailure", message)
        except Exception as exc:  # this request's rows alone were refused by SQLite
            message = f"The request could not be stored: {type(exc).__name__}: {exc}"
            self.emulator.fail(outcome, 400, "InvalidInputException", message)
        return 0

    async def _too_large(self, scope: dict[str, Any], send: Any, size: int) -> None:
        """Answer 413 for a body not read (whole), and close the connection after it."""
        outcome = self.emulator.handle(scope["method"], scope["path"], {}, b"", body_size=size)
        self.emulator.finish(outcome, 0)
        headers = [*outcome.headers, (b"connection", b"close")]
        await self._reply(send, outcome.status, headers, outcome.body)

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
        # what a client needs to call it, beside the counters (serve prints them too)
        config = self.emulator.config
        stats["tracking_id"] = config.tracking_id
        stats["tracking_ids"] = None if config.tracking_ids is None else list(config.tracking_ids)
        stats["recommender_arns"] = config.recommender_arns
        stats["filter_arns"] = config.filter_arns
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
        check_binding(host, config)
        self.config = config
        self.loop = installed(loop, "loop", LOOPS)
        self.http = installed(http, "http", HTTP_PARSERS)
        self.app = TrackerApp(Emulator(config, clock=clock), db_path)
        self.socket = bind(host, port)
        self.host = host
        self.port = self.socket.getsockname()[1]
        self._server: Any = None
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "https" if self.config.tls_cert else "http"
        return f"{scheme}://{host}:{self.port}"

    def run(
        self, on_ready: Callable[[str], None] | None = None, *, exit_with_fd: int | None = None
    ) -> None:
        """Serve until :meth:`stop`, SIGINT or SIGTERM; flush the store; then return.

        ``on_ready(url)`` is called on the event loop once the server listens. With
        ``exit_with_fd`` it also stops when that file descriptor reaches end of file:
        a parent holding the other end of a pipe takes the emulator with it when it
        dies, so no orphan keeps the port.
        """
        config = uvicorn_config(
            self.app,
            http=self.http,
            header_timeout=self.config.header_timeout,
            idle_timeout=self.config.idle_timeout,
            tls=(self.config.tls_cert, self.config.tls_key),
        )
        self._server = uvicorn_server(config, on_ready=lambda: on_ready and on_ready(self.url))
        if exit_with_fd is not None:
            threading.Thread(
                target=self._stop_at_eof, args=(exit_with_fd,), name="tracker-eof", daemon=True
            ).start()
        if self._stop.is_set():
            self.close()
            return
        loop = new_event_loop(self.loop)
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


def fetch_stats(
    url: str, timeout: float = 10.0, *, pinned_cert: str | None = None
) -> dict[str, Any]:
    """The counters of the emulator at ``url`` (its ``GET /stats``); over HTTPS, the server
    must present ``pinned_cert`` (the certificate it was started with), whatever host it
    names, or else a certificate the system trusts."""
    import json
    import ssl
    import urllib.request

    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=pinned_cert)
        if pinned_cert is not None:  # trusted as it is: no chain to a CA, no host name needed
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
            context.check_hostname = False
    with urllib.request.urlopen(url + "/stats", timeout=timeout, context=context) as response:
        return json.loads(response.read())
