"""The emulator in a process of its own: both ends of the pipe, and the serve loop they share.

The parent (:func:`start_process`) runs ``python -m personalize_sim.tracker`` and
writes one line of JSON to its stdin: ``{"config": TrackerConfig.to_dict(),
"db_path": …, "host": …, "port": …}``. It keeps the pipe open: end of file on it
(the parent closed it, or died, even by SIGKILL) stops the emulator, which flushes
its store and exits 0, so no orphan keeps the port. The key pair travels only in
that pipe, never in argv or the environment, where other users could read it.

The child (:func:`main`) and ``personalize-sim serve`` both run :func:`serve`,
whose first line on stdout, flushed at once, is ``listening on http://HOST:PORT``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from personalize_sim.errors import ConfigError, EmulatorError

from ._binding import binding_warning
from ._config import TrackerConfig
from ._server import TrackerServer

__all__ = ["READY", "announcement", "main", "read_line", "serve", "start_process"]

#: what the first stdout line of a serving emulator starts with, before its URL
READY = "listening on "


def serve(
    config: TrackerConfig,
    *,
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 0,
    exit_with_fd: int | None = None,
    prog: str = "personalize-sim serve",
    announce: bool = True,
) -> int:
    """Run one emulator in this process until SIGINT or SIGTERM (or EOF on ``exit_with_fd``).

    Prints ``listening on URL`` first, then (with ``announce``) what a client needs: the
    tracking id, each recommender's ARN, how long relearning the store took (see
    :func:`announcement`); a summary to stderr at the end. Returns the exit status (0, or
    1 when the store cannot be opened). A port that cannot be bound raises
    :class:`~personalize_sim.errors.EmulatorError`.
    """
    warning = binding_warning(host)
    if warning is not None:
        print(f"{prog}: {warning}", file=sys.stderr, flush=True)
    try:
        server = TrackerServer(config, db_path=db_path, host=host, port=port)
    except ConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr, flush=True)
        return 2
    except OSError as exc:
        raise EmulatorError(f"cannot listen on {host}:{port}: {exc}") from exc

    def ready(url: str) -> None:
        lines = [f"{READY}{url}"]
        if announce:
            lines += announcement(config, server.app.restored)
        print("\n".join(lines), flush=True)

    try:
        server.run(on_ready=ready, exit_with_fd=exit_with_fd)
    except SystemExit:  # recent uvicorn's answer to a failed startup (older ones just return)
        if server.app.startup_error is None:
            raise
    if server.app.startup_error is not None:
        print(
            f"{prog}: cannot open the store {db_path}: {server.app.startup_error}", file=sys.stderr
        )
        return 1
    stats = server.app.emulator.stats()
    summary = (
        f"stopped; {stats['PutEventsRequests']} PutEvents requests, "
        f"{stats['accepted_events']} events stored in {db_path}, "
        f"{stats['duplicates']} duplicates, {stats['throttled']} throttled"
    )
    if stats["store_failures"]:
        failed = stats["store_failures"]
        summary += f"; {failed} request{'s' * (failed != 1)} answered 500: the store failed"
    if server.app.shutdown_problem:
        summary += f"; {server.app.shutdown_problem}"
    print(summary, file=sys.stderr, flush=True)
    return 0


def announcement(config: TrackerConfig, restored: tuple[int, float] | None) -> list[str]:
    """The lines ``serve`` prints after ``listening on``: the tracking id(s) to use, each
    recommender's ARN (``GET /stats`` has both too), the models relearnt from the store.

    >>> print("\\n".join(announcement(TrackerConfig(recommenders=["top=popularity"]), (9, 0.02))))
    tracking id: local-tracker (any tracking id is accepted)
    recommender top (popularity): arn:aws:personalize:us-east-1:000000000000:recommender/top
    models relearnt from 9 stored events in 0.02 s
    """
    from personalize_sim.online import RecommenderSpec

    if config.tracking_ids is None:
        lines = [f"tracking id: {config.tracking_id} (any tracking id is accepted)"]
    else:
        lines = [f"tracking id: {', '.join(config.tracking_ids)}"]
    for spec in map(RecommenderSpec.parse, config.recommenders or ()):
        lines.append(f"{spec.resource} {spec.name} ({spec.kind}): {spec.arn}")
    if restored is not None and config.recommenders:
        lines.append(f"models relearnt from {restored[0]:,} stored events in {restored[1]:.2f} s")
    return lines


# -- the child --------------------------------------------------------------------------------


def main() -> int:
    """``python -m personalize_sim.tracker``: read the launch line from stdin, then serve."""
    line = _first_line(0)
    if not line.strip():
        print("personalize_sim.tracker: no configuration on stdin", file=sys.stderr)
        return 2
    launch = json.loads(line)
    config = TrackerConfig.from_dict(launch["config"])
    return serve(
        config,
        db_path=launch["db_path"],
        host=launch["host"],
        port=launch["port"],
        exit_with_fd=0,
        prog="personalize_sim.tracker",
        announce=False,  # the parent reads one line: it knows the rest from its config
    )


def _first_line(fd: int) -> bytes:
    """Bytes up to the first newline, read unbuffered, so nothing past it is consumed."""
    data = b""
    while b"\n" not in data:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0]


# -- the parent -------------------------------------------------------------------------------


def start_process(
    config: TrackerConfig,
    *,
    db_path: str | Path,
    host: str,
    port: int,
    log_path: Path,
    timeout: float,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start an emulator process; return it and its URL once it listens.

    Its stderr goes to ``log_path``; if it does not start, the process is killed and
    :class:`~personalize_sim.errors.EmulatorError` quotes the end of that log.
    """
    launch: dict[str, Any] = {"config": config.to_dict(), "db_path": str(db_path)}
    launch |= {"host": host, "port": port}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "personalize_sim.tracker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
        )
    assert process.stdin is not None
    try:
        process.stdin.write(json.dumps(launch).encode() + b"\n")
        process.stdin.flush()
    except BrokenPipeError:  # it died at once; its log says why
        pass
    line = read_line(process, timeout)
    if not line.startswith(READY):
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):  # a dead reader: a broken pipe on close
                pipe.close()  # type: ignore[union-attr]  # both are PIPEs
        raise EmulatorError(
            f"the local tracker process did not start (first line {line!r}); "
            f"its log says:\n{_tail(log_path)}"
        )
    return process, line[len(READY) :].strip()


def read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The first stdout line of ``process``, or '' if it exits or times out first."""
    assert process.stdout is not None
    stdout = process.stdout
    got: list[bytes] = []
    # a thread, not a selector: selectors do not take pipes on Windows
    reader = threading.Thread(target=lambda: got.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return got[0].decode(errors="replace").rstrip("\r\n") if got else ""


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
