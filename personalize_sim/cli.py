"""The ``personalize-sim`` command.

Each subcommand lives beside the code it drives, in a module exposing
``add_arguments(parser)`` and ``run(args) -> int``; this file only lists them,
so ``personalize-sim --help`` stays fast (heavy imports happen in ``run``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("personalize_sim.demo", "simulate a small shop and stream it to the local tracker"),
    "generate": ("personalize_sim.simulate.cli", "simulate site traffic into Parquet or bulk CSV"),
    "serve": ("personalize_sim.tracker.cli", "run the local tracker emulator (PutEvents on HTTP)"),
    "stream": ("personalize_sim.stream.cli", "send events to a tracker at a controlled rate"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personalize-sim",
        description="Simulate, validate, stream and watch Amazon Personalize event traffic.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(command)
        command.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
