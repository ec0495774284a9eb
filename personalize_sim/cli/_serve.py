"""``personalize-sim serve``: run the local tracker emulator until SIGINT or SIGTERM.

The first line on stdout, flushed at once, is ``listening on http://HOST:PORT``;
a summary of the counters goes to stderr at exit. With ``--verify-signature``
the key pair is read from ``PERSONALIZE_SIM_ACCESS_KEY_ID`` and
``PERSONALIZE_SIM_SECRET_ACCESS_KEY`` (default ``testing``/``testing``), never
from the command line, where other users could read it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--db", default="personalize-sim-events.db", help="SQLite file of accepted events"
    )
    parser.add_argument(
        "--tracking-id",
        action="append",
        dest="tracking_ids",
        metavar="ID",
        help="a known tracking id (repeatable); others get ResourceNotFoundException. "
        "Default: accept any",
    )
    parser.add_argument(
        "--max-tps",
        type=float,
        default=1000.0,
        help="PutEvents quota per tracking id, requests/s (default 1000 as AWS; 0 = none)",
    )
    parser.add_argument(
        "--throttle-status",
        type=int,
        choices=(400, 429),
        default=400,
        help="HTTP status of ThrottlingException (default 400 as AWS documents)",
    )
    parser.add_argument(
        "--latency-ms",
        default=None,
        metavar="SPEC",
        help="added latency: 5, 2..8 (uniform), exp:MEAN or lognormal:MEDIAN,P99",
    )
    parser.add_argument(
        "--error-rate", type=float, default=0.0, metavar="P", help="share of 500/503 answers"
    )
    parser.add_argument(
        "--verify-signature", action="store_true", help="check SigV4 signatures (403 if bad)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault plan")
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="also stop (and flush) when stdin closes, e.g. when the parent process dies",
    )


def run(args: argparse.Namespace) -> int:
    from personalize_sim.errors import EmulatorError
    from personalize_sim.tracker import TrackerConfig, TrackerServer

    try:
        config = TrackerConfig(
            tracking_ids=tuple(args.tracking_ids) if args.tracking_ids else None,
            max_tps=args.max_tps,
            throttle_status=args.throttle_status,
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
            verify_signature=args.verify_signature,
            access_key_id=os.environ.get("PERSONALIZE_SIM_ACCESS_KEY_ID", "testing"),
            secret_access_key=os.environ.get("PERSONALIZE_SIM_SECRET_ACCESS_KEY", "testing"),
            seed=args.seed,
        )
    except ValueError as exc:
        print(f"personalize-sim serve: {exc}", file=sys.stderr)
        return 2
    try:
        server = TrackerServer(config, db_path=args.db, host=args.host, port=args.port)
    except OSError as exc:
        raise EmulatorError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc

    def ready(url: str) -> None:
        # This process is the emulator's own: move what startup loaded (botocore's model,
        # uvicorn) out of the collector's reach, so full collections stay short under load.
        gc.freeze()
        print(f"listening on {url}", flush=True)

    try:
        server.run(
            on_ready=ready, exit_with_fd=sys.stdin.fileno() if args.exit_with_stdin else None
        )
    except SystemExit:  # uvicorn's answer to a failed startup
        if server.app.startup_error is None:
            raise
        print(
            f"personalize-sim serve: cannot open the store {args.db}: {server.app.startup_error}",
            file=sys.stderr,
        )
        return 1
    stats = server.app.emulator.stats()
    print(
        f"stopped; {stats['PutEventsRequests']} PutEvents requests, "
        f"{stats['accepted_events']} events stored in {args.db}, "
        f"{stats['duplicates']} duplicates, {stats['throttled']} throttled",
        file=sys.stderr,
        flush=True,
    )
    return 0
