"""``personalize-sim serve``: run the local tracker emulator until SIGINT or SIGTERM.

The first line on stdout, flushed at once, is ``listening on http://HOST:PORT``; the
next name the tracking id and each recommender's ARN; a summary of the counters goes to
stderr at exit. The emulator's flags are built
from the fields of :class:`~personalize_sim.tracker.TrackerConfig` (their
``flag``, ``help``, ``metavar``, ``parse``, ``choices`` and ``repeat`` metadata);
fields with an ``env`` instead, the key pair checked by ``--verify-signature``,
are read from ``PERSONALIZE_SIM_ACCESS_KEY_ID`` and ``PERSONALIZE_SIM_SECRET_ACCESS_KEY``
(default ``testing``/``testing``), never from the command line, where other users
could read them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["add_arguments", "config_from", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from personalize_sim.tracker import TrackerConfig

    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1); any other prints a warning and needs "
        "--verify-signature or --allow-unsigned-remote",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--db",
        default="personalize-sim-events.db",
        help="SQLite file of accepted events (default personalize-sim-events.db); restarting on "
        "the same file relearns the recommenders' models from its events",
    )
    for field in dataclasses.fields(TrackerConfig):
        if field.metadata.get("flag"):
            _add_flag(parser, field)
    parser.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="also stop (and flush) when stdin closes, e.g. when the parent process dies",
    )


def _add_flag(parser: argparse.ArgumentParser, field: dataclasses.Field[Any]) -> None:
    """One flag of a TrackerConfig field; absent, it is None, and the field keeps its default."""
    meta = field.metadata
    options: dict[str, Any] = {"dest": field.name, "default": None, "help": meta["help"]}
    if isinstance(field.default, bool):
        options["action"] = "store_true"
    else:
        options["action"] = "append" if meta["repeat"] else "store"
        options |= {"type": meta["parse"] or str, "metavar": meta["metavar"]}
        if meta["choices"] is not None:
            options["choices"] = meta["choices"]
    parser.add_argument(meta["flag"], **options)


def config_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Any:
    """The TrackerConfig of parsed flags and, for the fields that are no flag, the environment."""
    from personalize_sim.tracker import TrackerConfig

    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in dataclasses.fields(TrackerConfig):
        if field.metadata.get("flag"):
            value = getattr(args, field.name)
        elif field.metadata.get("env"):
            value = environ.get(field.metadata["env"])
        else:
            continue
        if value is not None:
            values[field.name] = tuple(value) if isinstance(value, list) else value
    return TrackerConfig(**values)


def run(args: argparse.Namespace) -> int:
    from personalize_sim.tracker.internal import serve

    config = config_from(args)
    exit_with_fd = sys.stdin.fileno() if args.exit_with_stdin else None
    return serve(config, db_path=args.db, host=args.host, port=args.port, exit_with_fd=exit_with_fd)
