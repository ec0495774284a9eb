"""``personalize-sim generate``: simulate traffic and write it to a file.

``--out`` decides the format: ``events.parquet`` (one file), a directory (partitioned
Parquet written chunk by chunk, for data larger than memory) or ``events.csv``
(a bulk-import CSV and its Avro schema, through the payload layer).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--preset", metavar="NAME", help="a shipped preset: retail, video-on-demand"
    )
    source.add_argument("--config", metavar="FILE", help="a YAML simulation config")
    parser.add_argument("--users", type=int, help="number of users (overrides the config)")
    parser.add_argument("--days", type=float, help="length of the window in days")
    parser.add_argument("--seed", type=int, help="random seed (same seed, same events)")
    parser.add_argument("--start", help="window start, ISO 8601 (default: the window ends now)")
    parser.add_argument(
        "--chunk-events",
        type=int,
        default=1_000_000,
        metavar="N",
        help="rows per Parquet part when --out is a directory (default 1000000)",
    )
    parser.add_argument(
        "--out", required=True, metavar="PATH", help="events.parquet, events.csv or a directory"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from personalize_sim.errors import ConfigError
    from personalize_sim.simulation import SimulationConfig, iter_simulate, simulate, write_parquet

    try:
        if args.preset is not None:
            config = SimulationConfig.preset(args.preset)
        else:
            config = SimulationConfig.from_yaml(Path(args.config))
        overrides = {
            key: value
            for key, value in (("users", args.users), ("days", args.days), ("start", args.start))
            if value is not None
        }
        if args.seed is not None:
            overrides["seed"] = args.seed
        config = config.replace(**overrides)
    except ConfigError as error:
        print(f"personalize-sim generate: bad config: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    suffix = out.suffix.lower()
    with tqdm(total=1, unit="block", desc=f"simulating {config.name}", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        if suffix not in (".parquet", ".csv"):
            chunks = iter_simulate(
                config, chunk_events=args.chunk_events, progress=progress, arrow=True
            )
            written = write_parquet(chunks, out)
            print(f"wrote {len(written)} Parquet parts to {out}/")
            return 0
        frame = simulate(config, progress=progress)
    if suffix == ".parquet":
        write_parquet(frame, out)
        print(f"wrote {len(frame)} events to {out}")
        return 0
    from personalize_sim.payloads import to_bulk_csv

    # a dataset row needs a USER_ID: anonymous events can only be streamed, never imported
    known = frame[frame["USER_ID"].notna()]
    to_bulk_csv(known, out)
    print(
        f"wrote {len(known)} events to {out} (bulk-import CSV); left out "
        f"{len(frame) - len(known)} anonymous events, which a dataset cannot hold"
    )
    return 0
