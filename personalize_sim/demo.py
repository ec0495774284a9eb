"""``personalize-sim demo``: the README's first command.

Placeholder until the simulator, the stream and the local tracker exist:
it says which parts are ready.
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="how long to stream (default 20)"
    )


def run(args: argparse.Namespace) -> int:
    print("personalize-sim demo: the payload layer is ready (to_put_events, validate_events,")
    print("from_put_events, to_bulk_csv); the simulator, stream and local tracker are being built.")
    return 0
