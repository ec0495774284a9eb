"""``personalize-sim fit`` and ``personalize-sim realism``: calibrate to a real log.

``fit LOG --out config.yaml`` writes the config :func:`~personalize_sim.simulation.fit`
estimates from an interactions log (CSV as Personalize imports it, with epoch-second
TIMESTAMPs; TSV; Parquet; JSON lines). ``realism REAL SYNTHETIC`` prints the realism
report of two logs (``--figure realism.png`` draws it) and exits 1 when a row fails.
"""

from __future__ import annotations

import argparse
import sys

from personalize_sim._sessions import DEFAULT_SESSION_GAP

from ._inputs import read_frame
from ._outputs import output_file

__all__ = ["add_arguments", "add_realism_arguments", "run", "run_realism"]

#: what a log needs (EVENT_TYPE, EVENT_VALUE and SESSION_ID are optional)
LOG_COLUMNS = ("USER_ID", "ITEM_ID", "TIMESTAMP")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("log", metavar="LOG", help="interactions log: .csv, .tsv, .parquet, .jsonl")
    parser.add_argument("--out", required=True, metavar="FILE", help="the config, as YAML")
    _shared(parser)
    parser.add_argument("--name", default="fitted", help="the config's name (default fitted)")


def add_realism_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("real", metavar="REAL", help="the real log")
    parser.add_argument("synthetic", metavar="SYNTHETIC", help="the synthetic log")
    _shared(parser)
    parser.add_argument("--figure", metavar="FILE", help="also draw the report (PNG, SVG…)")


def _shared(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timezone", default="UTC", help="IANA zone of the daily and weekly profiles"
    )
    parser.add_argument(
        "--session-gap",
        type=float,
        metavar="SECONDS",
        help=f"inactivity that ends a session (default: SESSION_ID, else {DEFAULT_SESSION_GAP:g})",
    )
    parser.add_argument(
        "--event-type", default="Event", help="event type of a log without EVENT_TYPE"
    )


def run(args: argparse.Namespace) -> int:
    from personalize_sim.calibration import fit

    output_file("--out", args.out, inputs=[args.log])
    log = read_frame(args.log, "LOG", needs=LOG_COLUMNS)
    config = fit(
        log,
        timezone=args.timezone,
        session_gap=args.session_gap,
        event_type=args.event_type,
        name=args.name,
    )
    config.to_yaml(args.out)
    traffic = config.traffic
    assert traffic is not None
    print(
        f"fitted {len(log)} events: {config.population.users} users, {config.catalog.items} "
        f"items, {config.time.days:.1f} days, event types {', '.join(config.funnel.names)}"
    )
    for note in traffic.notes:
        print(f"  note: {note}")
    print(f"wrote {args.out}")
    return 0


def run_realism(args: argparse.Namespace) -> int:
    from personalize_sim.calibration import realism_report

    if args.figure:
        output_file("--figure", args.figure, inputs=[args.real, args.synthetic],
                    suffixes=_figure_formats())  # fmt: skip
    report = realism_report(
        read_frame(args.real, "REAL", needs=LOG_COLUMNS),
        read_frame(args.synthetic, "SYNTHETIC", needs=LOG_COLUMNS),
        timezone=args.timezone,
        session_gap=args.session_gap,
        event_type=args.event_type,
    )
    print(report)
    if args.figure:
        from personalize_sim import plots

        plots.realism(report).savefig(args.figure)
        print(f"wrote {args.figure}")
    if not report.passed:
        print(f"outside tolerance: {', '.join(report.failures())}", file=sys.stderr)
        return 1
    return 0


def _figure_formats() -> list[str]:
    """The suffixes matplotlib can save a figure as (png, svg, pdf…)."""
    from matplotlib.figure import Figure

    return list(Figure().canvas.get_supported_filetypes())
