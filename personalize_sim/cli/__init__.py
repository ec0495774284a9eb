"""The ``personalize-sim`` command.

The only place that composes the parts: each subcommand is a private module here
exposing ``add_arguments(parser)`` and ``run(args) -> int``; this file only lists them,
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
    "attribution": (
        "personalize_sim.cli._attribution",
        "compute the metric-attribution report Personalize would publish",
    ),
    "demo": (
        "personalize_sim.cli._demo",
        "simulate a small shop and stream it to the local tracker",
    ),
    "generate": ("personalize_sim.cli._generate", "simulate site traffic into Parquet or bulk CSV"),
    "fit": ("personalize_sim.cli._fit", "fit a simulation config to a real interactions log"),
    "realism": ("personalize_sim.cli._realism", "how close a synthetic log is to a real one"),
    "serve": ("personalize_sim.cli._serve", "run the local tracker emulator (PutEvents on HTTP)"),
    "stream": ("personalize_sim.cli._stream", "send events to a tracker at a controlled rate"),
}


def build_parser() -> argparse.ArgumentParser:
    from ._failures import flags_by_name, option_strings

    parser = argparse.ArgumentParser(
        prog="personalize-sim",
        description="Simulate, validate, stream and watch Amazon Personalize event traffic.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module, __name__).add_arguments(command)
        command.add_argument(
            "--debug", action="store_true", help="show the traceback when something fails"
        )
        command.set_defaults(
            _module=module, _options=option_strings(command), _flags=flags_by_name(command)
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; a failure prints one short message (``--debug``: the traceback)."""
    from personalize_sim.errors import PersonalizeSimError

    from ._failures import exit_code, explain, printable

    args = build_parser().parse_args(argv)
    module = importlib.import_module(args._module, __name__)
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (PersonalizeSimError, OSError) as error:
        if args.debug:
            raise
        flags = {**args._flags, **getattr(module, "FLAGS", {})}
        lines = [printable(line) for line in explain(error, args._options, flags,
                                                     getattr(args, "input", None))]  # fmt: skip
        lines[0] = f"personalize-sim {args.command}: {lines[0]}"
        print("\n".join(lines), file=sys.stderr)
        return exit_code(error)
