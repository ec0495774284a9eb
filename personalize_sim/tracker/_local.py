"""``LocalTracker``: the emulator as a context manager, in a thread or in its own process.

>>> with LocalTracker(max_tps=1000, seed=0) as tracker:          # doctest: +SKIP
...     tracker.client().put_events(**request)
...     frame = tracker.events()
...     tracker.stats()["accepted_events"]

Attributes and methods others rely on:

``endpoint_url``  ``http://127.0.0.1:PORT``
``tracking_id``   the first of ``tracking_ids``, or ``"local-tracker"`` when any id is accepted
``client(**kw)``  a boto3 ``personalize-events`` client bound to it (dummy credentials, or the
                  configured key pair; region ``us-east-1``); ``kw`` goes to ``Config``
                  (e.g. ``parameter_validation=False``, ``retries={...}``)
``events()``      accepted events as an events frame (see :func:`.store.read_events`)
``stats()``       the counters (``PutEventsRequests``, ``PutEvents4xxErrors``,
                  ``PutEvents5xxErrors``, ``throttled``, ``accepted_events``, ``duplicates``,
                  ``latency``, plus ``PutItems*``/``PutUsers*``, ``accepted_items``,
                  ``accepted_users``, ``commits``); after exit, the last values seen
``db_path``       the SQLite file (a temporary one unless ``db_path=`` is given; it outlives
                  the ``with`` block so ``events()`` still works, and is removed with the object)
``process``       the ``subprocess.Popen`` of the emulator when ``process=True``, else None
``kill()``        SIGKILL the emulator process (``process=True`` only): for crash tests
``state``         ``"new"``, ``"running"`` or ``"closed"``; a closed tracker cannot restart
``config``        the :class:`~.handler.TrackerConfig` it runs with

The emulator process exits (after flushing) when this process dies, even by SIGKILL,
so a crashed notebook kernel leaves no emulator behind. ``latency`` in ``stats()`` is
``{count, mean_ms, p50_ms, p99_ms, max_ms}`` of PutEvents answers, measured in the server.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_sim.errors import EmulatorError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LocalTracker"]

_START_TIMEOUT_S = 30.0


class LocalTracker:
    """A running local tracker emulator, bound to 127.0.0.1 on a free port.

    ``process=True`` (the default) runs it in its own Python process, so a load
    test in this process does not share its GIL; ``process=False`` runs it in a
    thread, which starts faster. Options are those of ``personalize-sim serve``.
    """

    def __init__(
        self,
        *,
        max_tps: float | None = 1000.0,
        error_rate: float = 0.0,
        latency_ms: Any = None,
        tracking_ids: Sequence[str] | None = None,
        throttle_status: int = 400,
        verify_signature: bool = False,
        access_key_id: str = "testing",
        secret_access_key: str = "testing",
        seed: int | None = None,
        process: bool = True,
        db_path: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        from ._handler import TrackerConfig

        self.config = TrackerConfig(
            tracking_ids=tracking_ids,  # type: ignore[arg-type]  # TrackerConfig normalises
            max_tps=max_tps,
            throttle_status=throttle_status,
            latency_ms=latency_ms,
            error_rate=error_rate,
            verify_signature=verify_signature,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            seed=seed,
        )
        self.host, self.port = host, port
        self.use_process = bool(process)
        # a private folder for the process log, and the store unless db_path is given
        tmp = tempfile.mkdtemp(prefix="personalize-sim-tracker-")
        self._finalizer = weakref.finalize(self, shutil.rmtree, tmp, True)
        self.db_path = Path(tmp) / "events.db" if db_path is None else Path(db_path)
        self.endpoint_url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.state = "new"
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._last_stats: dict[str, Any] | None = None
        self._log_path = Path(tmp) / "emulator.log"

    @property
    def tracking_id(self) -> str:
        return self.config.tracking_id

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalTracker:
        """Start serving; returns once the emulator accepts connections."""
        if self.state != "new":
            raise RuntimeError(f"cannot start a LocalTracker that is {self.state}; make a new one")
        self.state = "running"
        try:
            if self.use_process:
                self._start_process()
            else:
                self._start_thread()
        except BaseException:
            self.close()
            raise
        return self

    def _start_thread(self) -> None:
        from ._server import TrackerServer

        self._server = TrackerServer(
            self.config, db_path=self.db_path, host=self.host, port=self.port
        )
        ready = threading.Event()
        server = self._server

        def run() -> None:
            # uvicorn ends a failed startup with sys.exit(); keep that inside this thread
            with contextlib.suppress(SystemExit):
                server.run(on_ready=lambda url: ready.set())

        self._thread = threading.Thread(
            target=run, name=f"personalize-sim-tracker:{server.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not ready.wait(0.05):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                why = server.app.startup_error
                raise EmulatorError(
                    "the local tracker did not start"
                    + (f": {why!r}" if why else f" within {_START_TIMEOUT_S:g} s")
                )
        self.endpoint_url = server.url

    def _start_process(self) -> None:
        c = self.config
        # --exit-with-stdin: the emulator holds the read end of a pipe only we write to, so
        # it stops when this process dies, even by SIGKILL (no orphan keeps the port)
        argv = [sys.executable, "-m", "personalize_sim.cli", "serve", "--exit-with-stdin"]
        argv += ["--host", self.host, "--port", str(self.port), "--db", str(self.db_path)]
        for tid in c.tracking_ids or ():
            argv += ["--tracking-id", tid]
        argv += ["--max-tps", str(c.max_tps or 0), "--throttle-status", str(c.throttle_status)]
        if c.latency_ms is not None:
            argv += ["--latency-ms", str(c.latency_ms)]
        argv += ["--error-rate", repr(c.error_rate)]
        if c.verify_signature:
            argv.append("--verify-signature")
        if c.seed is not None:
            argv += ["--seed", str(c.seed)]
        env = dict(os.environ)
        # the key pair travels in the environment, never in argv (visible to other users)
        env["PERSONALIZE_SIM_ACCESS_KEY_ID"] = c.access_key_id
        env["PERSONALIZE_SIM_SECRET_ACCESS_KEY"] = c.secret_access_key
        with open(self._log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env
            )
        line = _read_line(self.process, _START_TIMEOUT_S)
        prefix = "listening on "
        if not line.startswith(prefix):
            self._kill_quietly()
            raise EmulatorError(
                f"the local tracker process did not start (first line {line!r}); "
                f"its log says:\n{self._log_tail()}"
            )
        self.endpoint_url = line[len(prefix) :].strip()

    def close(self) -> None:
        """Stop the emulator, flushing its store; idempotent."""
        if self.state == "closed":
            return
        if self.state == "running":
            with contextlib.suppress(Exception):
                self._last_stats = self._fetch_stats()
        self.state = "closed"
        if self._server is not None:
            self._server.stop()
            if self._thread is not None:
                self._thread.join(timeout=30)
            self._last_stats = self._server.app.emulator.stats()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._kill_quietly()
        if self.process is not None:
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()

    def kill(self) -> None:
        """SIGKILL the emulator process at once, with no flush: for crash tests."""
        if self.process is None:
            raise RuntimeError("kill() needs a tracker started with process=True")
        self.process.kill()
        self.process.wait()

    def _kill_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> LocalTracker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "process" if self.use_process else "thread"
        return f"<LocalTracker {self.state} {self.endpoint_url or '-'} ({where}) db={self.db_path}>"

    def _repr_html_(self) -> str:
        import html

        rows = [("state", self.state), ("endpoint_url", self.endpoint_url or "-")]
        rows += [("tracking_id", self.tracking_id), ("db_path", str(self.db_path))]
        with contextlib.suppress(Exception):  # a repr must never raise
            stats = self.stats()
            rows += [(k, stats[k]) for k in ("PutEventsRequests", "accepted_events", "throttled")]
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in rows
        )
        return f"<table><caption>LocalTracker</caption>{cells}</table>"

    # -- using it ----------------------------------------------------------------------------

    def client(self, **config: Any) -> Any:
        """A boto3 ``personalize-events`` client for this emulator; ``config`` goes to Config."""
        if not self.endpoint_url:
            raise RuntimeError("start the LocalTracker (use it in a with block) before client()")
        import boto3
        from botocore.config import Config

        session = boto3.session.Session(
            aws_access_key_id=self.config.access_key_id,
            aws_secret_access_key=self.config.secret_access_key,
            region_name="us-east-1",
        )
        return session.client(
            "personalize-events", endpoint_url=self.endpoint_url, config=Config(**config)
        )

    def events(self, tracking_id: str | None = None) -> pd.DataFrame:
        """Accepted events, in arrival order, as an events frame (read straight from SQLite)."""
        from ._store import read_events

        if not self.db_path.exists():
            raise EmulatorError(f"no event store at {self.db_path}; was the tracker started?")
        return read_events(self.db_path, tracking_id)

    def stats(self) -> dict[str, Any]:
        """The emulator's counters (``GET /stats``); after close, the last values seen."""
        if self.state == "running":
            if self.process is not None and self.process.poll() is not None:
                if self._last_stats is None:
                    raise EmulatorError("the local tracker process is not running")
                return dict(self._last_stats)
            self._last_stats = self._fetch_stats()
        if self._last_stats is None:
            if self.state == "new":
                raise RuntimeError("the LocalTracker has not run yet; start it first")
            raise EmulatorError("no counters: the emulator process died before it was asked")
        return dict(self._last_stats)

    def _fetch_stats(self) -> dict[str, Any]:
        import json
        import urllib.request

        with urllib.request.urlopen(self.endpoint_url + "/stats", timeout=10) as response:
            return json.loads(response.read())

    def _log_tail(self, lines: int = 20) -> str:
        try:
            text = self._log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The first stdout line of ``process``, or '' if it exits or times out first."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                break
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
    return buffer.split(b"\n", 1)[0].decode(errors="replace")
