"""``personalize-sim generate``: simulate traffic and write it to a file.

``--out`` decides the format: ``events.parquet`` (one file), ``events.jsonl`` or
``events.json`` (JSON lines, or one array, of events-frame rows), a folder (no suffix:
partitioned Parquet written chunk by chunk, for data larger than memory) or ``events.csv``
(a bulk-import CSV and its Avro schema, through the payload layer). ``stream`` reads each.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from personalize_sim.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_arguments", "run"]

#: what --out's suffix selects (no suffix: a folder of Parquet parts)
OUTPUTS = (".parquet", ".jsonl", ".json", ".csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--preset", metavar="NAME", help="a shipped preset: retail, video-on-demand"
    )
    source.add_argument("--config", metavar="FILE", help="a YAML simulation config")
    parser.add_argument("--users", type=int, help="number of users (overrides the config)")
    parser.add_argument("--days", type=float, help="length of the window in days")
    parser.add_argument("--seed", type=int, help="random seed (same seed, same events)")
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--start", help="window start, ISO 8601 (default: the config's)")
    window.add_argument("--end", help='window end, ISO 8601, or "now" (each run then differs)')
    parser.add_argument(
        "--chunk-events",
        type=int,
        default=1_000_000,
        metavar="N",
        help="rows per Parquet part when --out is a directory (default 1000000)",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="PATH",
        help="events.parquet, events.jsonl, events.json, events.csv (bulk import) or a folder",
    )
    parser.add_argument(
        "--anonymous",
        choices=("drop", "session"),
        default="drop",
        help="bulk CSV: leave out anonymous events (default) or use their session id as user id",
    )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from personalize_sim.simulation import SimulationConfig, iter_simulate, simulate, write_parquet

    if args.preset is not None:
        config = SimulationConfig.preset(args.preset)
    else:
        config = SimulationConfig.from_yaml(Path(args.config))
    overrides = {
        key: value
        for key, value in (
            ("users", args.users), ("days", args.days), ("start", args.start), ("end", args.end)
        )
        if value is not None
    }  # fmt: skip
    if args.seed is not None:
        overrides["rng"] = args.seed
    config = config.replace(**overrides)
    out = Path(args.out)
    suffix = out.suffix.lower()
    _check_out(out, suffix)
    with tqdm(total=1, unit="block", desc=f"simulating {config.name}", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        if not suffix:
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
    elif suffix in (".json", ".jsonl"):
        frame.to_json(out, orient="records", lines=suffix == ".jsonl", date_format="iso",
                      date_unit="us")  # fmt: skip
        print(f"wrote {len(frame)} events to {out}")
    else:
        _write_bulk_csv(frame, out, args.anonymous)
    return 0


def _check_out(out: Path, suffix: str) -> None:
    """Refuse an output path that cannot be written, before minutes of simulating."""
    if suffix and suffix not in OUTPUTS:
        raise ConfigError(
            "out", str(out), f"a path ending in {', '.join(OUTPUTS)}, or a folder (no suffix)"
        )
    folder = out.parent if suffix else out
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise ConfigError("out", str(out), f"a path in a folder you can write ({existing} is not)")
    if suffix and not folder.is_dir():
        raise ConfigError("out", str(out), f"a path in an existing folder ({folder} is not one)")


def _write_bulk_csv(frame: pd.DataFrame, out: Path, anonymous: str) -> None:
    from personalize_sim.payloads import to_bulk_csv

    to_bulk_csv(frame, out, anonymous=anonymous)  # type: ignore[arg-type]
    n_anonymous = int(frame["USER_ID"].isna().sum())
    note = {
        "drop": f"; left out {n_anonymous} anonymous events (--anonymous session keeps them)",
        "session": f", {n_anonymous} anonymous ones under their session id",
    }
    written = len(frame) - (n_anonymous if anonymous == "drop" else 0)
    print(f"wrote {written} events to {out} (bulk-import CSV){note[anonymous]}")
