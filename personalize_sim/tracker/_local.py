"""``LocalTracker``: the emulator as a context manager, in a thread or in its own process.

>>> with LocalTracker(process=False, max_tps=100, rng=0) as tracker:
...     client = tracker.client()
...     _ = client.put_events(trackingId=tracker.tracking_id, sessionId="s1",
...                           eventList=[{"eventType": "click", "sentAt": 1_700_000_000}])
...     tracker.stats()["accepted_events"]
1
>>> tracker.state, tracker.events()["EVENT_TYPE"].tolist()
(<TrackerState.CLOSED: 'closed'>, ['click'])

Attributes and methods others rely on:

``endpoint_url``  ``http://127.0.0.1:PORT`` (``https://`` with ``tls_cert``/``tls_key``)
``tracking_id``   the first of ``tracking_ids``, or ``"local-tracker"`` when any id is accepted
``client(**kw)``  a boto3 ``personalize-events`` client bound to it (the configured key pair,
                  ``testing``/``testing`` by default; region ``us-east-1``); ``kw`` goes to
                  ``Config`` (e.g. ``parameter_validation=False``, ``retries={...}``)
``events()``      accepted events as an events frame (see :func:`._readers.read_events`); with
                  recommenders declared, a last column ``RECOMMENDER_ARN`` names the issuer
                  of each event's ``recommendationId``, which ``attribution_report`` credits
``items()``, ``users()``, ``actions()``, ``action_interactions()``  the records stored, as frames
``runtime_client(**kw)``  a boto3 ``personalize-runtime`` client bound to it
``recommender_arns``  the ARN of each declared recommender, by name (filters: config.filter_arns)
``recommendations()``  every runtime answer: id, issuer ARN, items shown (see
                  :func:`._readers.read_recommendations`)
``stats()``       the counters (``PutEventsRequests``, ``PutEvents4xxErrors``,
                  ``PutEvents5xxErrors``, ``throttled``, ``accepted_events``, ``duplicates``,
                  ``latency``, plus ``PutItems*``/``PutUsers*``, ``accepted_items``,
                  ``accepted_users``, ``store_failures``, ``commits``, and for the runtime
                  API ``GetRecommendations*``, ``GetPersonalizedRanking*``,
                  ``issued_recommendations``, ``runtime_latency``; what a client calls:
                  ``tracking_id(s)``, ``recommender_arns``, ``filter_arns``); after exit, the last
                  values seen
``db_path``       the SQLite file (a temporary one unless ``db_path=`` is given; it outlives
                  the ``with`` block so ``events()`` still works, and is removed with the object)
``process``       the ``subprocess.Popen`` of the emulator when ``process=True``, else None
``kill()``        SIGKILL the emulator process (``process=True`` only): for crash tests
``state``         a :class:`TrackerState`: ``"new"``, ``"running"`` or ``"closed"``; a closed
                  tracker cannot restart
``config``        the :class:`~._config.TrackerConfig` it runs with

The emulator process exits (after flushing) when this process dies, even by SIGKILL,
so a crashed notebook kernel leaves no emulator behind. ``latency`` in ``stats()`` is
:meth:`LatencySummary.to_dict() <personalize_sim._latency.LatencySummary.to_dict>` of
PutEvents answers, measured in the server: ``count, mean, p50, p90, p99, p99.9, max``,
in milliseconds (None while there is none).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_sim._checks import instance
from personalize_sim.errors import ConfigTypeError, EmulatorError

from ._config import TrackerConfig

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LocalTracker", "TrackerState"]

_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 30.0


class TrackerState(str, Enum):
    """Where a :class:`LocalTracker` is in its life: new, then running, then closed."""

    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


class LocalTracker:
    """A running local tracker emulator, bound to 127.0.0.1 on a free port.

    ``config`` is a :class:`~._config.TrackerConfig`; ``options`` are its fields as
    keyword arguments (``LocalTracker(max_tps=100, rng=0)``), which override those of
    ``config`` when both are given. ``process=True`` (the default) runs the emulator in
    its own Python process, so a load test in this process does not share its GIL;
    ``process=False`` runs it in a thread, which starts faster.
    """

    def __init__(
        self,
        config: TrackerConfig | None = None,
        *,
        process: bool = True,
        db_path: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        **options: Any,
    ) -> None:
        self.config = _config(config, options)
        self.host, self.port = host, port
        self.use_process = bool(process)
        # a private folder for the process log, and the store unless db_path is given
        tmp = tempfile.mkdtemp(prefix="personalize-sim-tracker-")
        # the safety net of a tracker never closed (a test, a notebook): stop, then remove
        self._leftovers = _Leftovers(tmp, store_inside=db_path is None)
        self._finalizer = weakref.finalize(self, self._leftovers.release)
        # and at exit, early: a Jupyter kernel ends before weakref's own atexit hook runs
        atexit.register(self._leftovers.release)
        self.db_path = Path(tmp) / "events.db" if db_path is None else Path(db_path)
        self.endpoint_url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.state = TrackerState.NEW
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
        if self.state != TrackerState.NEW:
            raise RuntimeError(
                f"cannot start a LocalTracker that is {self.state.value}; make a new one"
            )
        self.state = TrackerState.RUNNING
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

        self._leftovers.server = server
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
        from ._process import start_process

        self.process, self.endpoint_url = start_process(
            self.config,
            db_path=self.db_path,
            host=self.host,
            port=self.port,
            log_path=self._log_path,
            timeout=_START_TIMEOUT_S,
        )
        self._leftovers.process = self.process
        # reap it the moment it exits: a zombie child stalls a Jupyter kernel's shutdown
        # (ipykernel waits for its children) until the kernel is killed, skipping atexit
        threading.Thread(target=self.process.wait, name="personalize-sim-reaper",
                         daemon=True).start()  # fmt: skip

    def close(self) -> None:
        """Stop the emulator, flushing its store; idempotent."""
        if self.state == TrackerState.CLOSED:
            return
        if self.state == TrackerState.RUNNING:
            with contextlib.suppress(Exception):
                self._last_stats = self._fetch_stats()
        self.state = TrackerState.CLOSED
        if self._server is not None:
            self._server.stop()
            if self._thread is not None:
                self._thread.join(timeout=_STOP_TIMEOUT_S)
            self._last_stats = self._server.app.emulator.stats()
        if self.process is not None:
            self._stop_process()

    def _stop_process(self) -> None:
        assert self.process is not None
        # end of file on its stdin is the emulator's signal to flush and exit 0
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._kill_quietly()
        if self.process.stdout is not None:
            self.process.stdout.close()

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
        url = self.endpoint_url or "-"
        return f"<LocalTracker {self.state.value} {url} ({where}) db={self.db_path}>"

    def _repr_html_(self) -> str:
        import html

        rows = [("state", self.state.value), ("endpoint_url", self.endpoint_url or "-")]
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
        from personalize_sim._aws import boto3_client

        keys = (self.config.access_key_id, self.config.secret_access_key)
        return boto3_client(region="us-east-1", endpoint_url=self.endpoint_url, keys=keys, **config)

    def runtime_client(self, **config: Any) -> Any:
        """A boto3 ``personalize-runtime`` client for this emulator; ``config`` goes to Config."""
        if not self.endpoint_url:
            raise RuntimeError("start the LocalTracker (use it in a with block) first")
        from personalize_sim._aws import boto3_client

        keys = (self.config.access_key_id, self.config.secret_access_key)
        return boto3_client(
            "personalize-runtime",
            region="us-east-1",
            endpoint_url=self.endpoint_url,
            keys=keys,
            **config,
        )

    @property
    def recommender_arns(self) -> dict[str, str]:
        return self.config.recommender_arns

    def recommendations(self) -> pd.DataFrame:
        """Every answer of the runtime API: RECOMMENDATION_ID, RECOMMENDER_ARN, ITEMS …"""
        from ._readers import read_recommendations

        return read_recommendations(self._store_path())

    def events(self, tracking_id: str | None = None) -> pd.DataFrame:
        """Accepted events, in arrival order, as an events frame (read straight from SQLite)."""
        from ._readers import read_events

        recommenders = bool(self.config.recommenders)
        return read_events(self._store_path(), tracking_id, issuers=recommenders)

    def items(self) -> pd.DataFrame:
        """The items stored by PutItems (the latest of each), as ``from_put_records`` gives them."""
        return self._dataset("items")

    def users(self) -> pd.DataFrame:
        """The users stored by PutUsers (the latest of each), as ``from_put_records`` gives them."""
        return self._dataset("users")

    def actions(self) -> pd.DataFrame:
        """The actions stored by PutActions (the latest of each), as ``from_put_records`` does."""
        return self._dataset("actions")

    def action_interactions(self, tracking_id: str | None = None) -> pd.DataFrame:
        """Accepted action interactions, in arrival order, then TRACKING_ID and RECEIVED_AT."""
        return self._dataset("action_interactions", tracking_id)

    def _dataset(self, table: str, tracking_id: str | None = None) -> pd.DataFrame:
        from ._readers import read_dataset

        return read_dataset(self._store_path(), table, tracking_id)

    def _store_path(self) -> Path:
        if not self.db_path.exists():
            raise EmulatorError(f"no event store at {self.db_path}; was the tracker started?")
        return self.db_path

    def stats(self) -> dict[str, Any]:
        """The emulator's counters (``GET /stats``); after close, the last values seen."""
        if self.state == TrackerState.RUNNING:
            if self.process is not None and self.process.poll() is not None:
                if self._last_stats is None:
                    raise EmulatorError("the local tracker process is not running")
                return dict(self._last_stats)
            self._last_stats = self._fetch_stats()
        if self._last_stats is None:
            if self.state == TrackerState.NEW:
                raise RuntimeError("the LocalTracker has not run yet; start it first")
            raise EmulatorError("no counters: the emulator process died before it was asked")
        return dict(self._last_stats)

    def _fetch_stats(self) -> dict[str, Any]:
        from ._server import fetch_stats

        return fetch_stats(self.endpoint_url, pinned_cert=self.config.tls_cert)


class _Leftovers:
    """What a LocalTracker leaves if it is dropped unclosed: its emulator and its folder.

    Released fast (a Jupyter kernel that ends is killed a few seconds after it is asked to
    stop): an emulator whose store is in the folder is killed, as its events go with it;
    one with the caller's ``db_path`` gets end of file and flushes and exits on its own.
    """

    def __init__(self, folder: str, *, store_inside: bool) -> None:
        self.folder = folder
        self.store_inside = store_inside
        self.process: subprocess.Popen[bytes] | None = None
        self.server: Any = None
        self.released = False

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        atexit.unregister(self.release)
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.stop()
        process = self.process
        if process is not None:
            if process.poll() is None and self.store_inside:
                process.kill()
                process.wait()
            for pipe in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    if pipe is not None:
                        pipe.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _config(config: TrackerConfig | None, options: dict[str, Any]) -> TrackerConfig:
    """``config`` (default: the defaults) with ``options``, TrackerConfig fields, applied."""
    if config is not None:
        instance(config, "config", TrackerConfig, "a TrackerConfig or None")
    names = [f.name for f in dataclasses.fields(TrackerConfig)]
    for name, value in options.items():
        if name not in names:
            raise ConfigTypeError(name, value, "an option of TrackerConfig: " + ", ".join(names))
    if config is None:
        return TrackerConfig(**options)
    return dataclasses.replace(config, **options) if options else config
