"""``personalize-sim generate``: simulate traffic and write it to a file.

``--out`` decides the format: ``events.parquet`` (one file), ``events.jsonl`` or
``events.json`` (JSON lines, or one array, of events-frame rows), a folder (no suffix:
partitioned Parquet written chunk by chunk, for data larger than memory) or ``events.csv``
(a bulk-import CSV and its Avro schema, through the payload layer). ``stream`` reads each.

A folder gets a manifest naming its parts (``_manifest.json``), so ``stream DIR`` never mixes
in another run's; a folder that already holds files is refused unless ``--overwrite`` says
to replace the run in it. ``--items FILE`` also writes the items dataset of the simulated
catalog (``.csv`` or ``.parquet``), which ``attribution``'s ``SUM(Items.COL)`` metrics need.
``--datasets DIR`` writes every dataset of the group instead of (or beside) ``--out``:
interactions, items, users, actions and action interactions (:mod:`._datasets`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_sim.errors import ConfigError

from ._datasets import check_datasets_folder, write_datasets
from ._failures import UsageError
from ._inputs import MANIFEST, listed, write_manifest
from ._outputs import output_file, output_folder

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
        metavar="PATH",
        help="events.parquet, events.jsonl, events.json, events.csv (bulk import) or a folder",
    )
    parser.add_argument(
        "--datasets",
        metavar="DIR",
        help="write all five datasets (interactions, items, users, actions, action "
        "interactions) into DIR",
    )
    parser.add_argument(
        "--datasets-format",
        choices=("parquet", "csv"),
        default="parquet",
        help="--datasets as Parquet files (default) or bulk-import CSVs with their schemas",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in a non-empty --out folder (its parts and manifest)",
    )
    parser.add_argument(
        "--items",
        metavar="FILE",
        help="also write the items dataset (ITEM_ID, CATEGORY, PRICE…): items.csv or .parquet",
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
    if args.out is None and args.datasets is None:
        raise UsageError("generate needs --out PATH, --datasets DIR, or both")
    if args.datasets is not None:
        folder = check_datasets_folder(args.datasets, args.datasets_format,
                                       overwrite=args.overwrite)  # fmt: skip
        if args.out is None:
            return _datasets_only(config, folder, args)
    out = Path(args.out)
    suffix = out.suffix.lower()
    _check_out(out, suffix, overwrite=args.overwrite)
    if args.items:
        output_file("--items", args.items, inputs=[args.out], suffixes=("csv", "parquet"))
    with tqdm(total=1, unit="block", desc=f"simulating {config.name}", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        if not suffix:
            _clear(out)
            chunks = iter_simulate(
                config, chunk_events=args.chunk_events, progress=progress, arrow=True
            )
            written = write_parquet(_counted(chunks, counts := [0]), out)
            write_manifest(out, written, events=counts[0], config=config.name, seed=args.seed)
            print(f"wrote {counts[0]:,} events in {len(written):,} Parquet parts to {out}/")
        else:
            frame = simulate(config, progress=progress)
    if suffix == ".parquet":
        write_parquet(frame, out)
        print(f"wrote {len(frame):,} events to {out}")
    elif suffix in (".json", ".jsonl"):
        frame.to_json(out, orient="records", lines=suffix == ".jsonl", date_format="iso",
                      date_unit="us")  # fmt: skip
        print(f"wrote {len(frame):,} events to {out}")
    elif suffix:
        _write_bulk_csv(frame, out, args.anonymous)
    if args.items:
        _write_items(config, Path(args.items))
    if args.datasets is not None:
        return _datasets_only(config, folder, args)
    return 0


def _datasets_only(config: Any, folder: Path, args: argparse.Namespace) -> int:
    """Simulate the whole dataset group and write it (its interactions are --out's events)."""
    from personalize_sim.simulation import simulate_datasets

    group = simulate_datasets(config)
    write_datasets(group, folder, args.datasets_format, args.anonymous)
    return 0


def _counted(chunks: Iterable[Any], counts: list[int]) -> Iterator[Any]:
    for chunk in chunks:
        counts[0] += chunk.num_rows
        yield chunk


def _write_items(config: Any, path: Path) -> None:
    """The simulated catalog as an items dataset (the catalog simulate drew)."""
    from personalize_sim.simulation import catalog_items

    items = catalog_items(config)
    if path.suffix.lower() == ".parquet":
        items.to_parquet(path, index=False)
    else:
        items.to_csv(path, index=False, lineterminator="\n")
    print(f"wrote {len(items):,} items to {path}")


def _check_out(out: Path, suffix: str, *, overwrite: bool) -> None:
    """Refuse an output path that cannot be written, before minutes of simulating."""
    if suffix and suffix not in OUTPUTS:
        raise ConfigError(
            "out", str(out), f"a path ending in {', '.join(OUTPUTS)}, or a folder (no suffix)"
        )
    if suffix:
        output_file("--out", str(out))
        return
    output_folder("--out", str(out))
    if not out.is_dir():
        return
    held = sorted(p.name for p in out.iterdir())
    if held and not overwrite:
        raise ConfigError(
            "out", str(out), f"an empty or new folder ({out} holds {listed(held, 3)}): "
            "pass --overwrite to replace the run in it, or another folder",
        )  # fmt: skip
    foreign = [name for name in held if name not in _run_files(out)]
    if foreign:
        raise ConfigError(
            "out", str(out), f"a folder holding one run ({listed(foreign, 3)} "
            "are not generate's): move them out first",
        )  # fmt: skip


def _run_files(folder: Path) -> set[str]:
    """What generate wrote in ``folder``: its manifest and parts (--overwrite replaces them)."""
    names = {MANIFEST, *(p.name for p in folder.glob("part-*.parquet"))}
    return names


def _clear(folder: Path) -> None:
    """Remove the previous run's files (checked by _check_out) before writing this one's."""
    if folder.is_dir():
        for name in sorted(_run_files(folder)):
            (folder / name).unlink(missing_ok=True)


def _write_bulk_csv(frame: pd.DataFrame, out: Path, anonymous: str) -> None:
    from personalize_sim.payloads import to_bulk_csv

    to_bulk_csv(frame, out, anonymous=anonymous)  # type: ignore[arg-type]
    n_anonymous = int(frame["USER_ID"].isna().sum())
    note = {
        "drop": f"; left out {n_anonymous:,} anonymous events (--anonymous session keeps them)",
        "session": f", {n_anonymous:,} anonymous ones under their session id",
    }
    written = len(frame) - (n_anonymous if anonymous == "drop" else 0)
    print(f"wrote {written:,} events to {out} (bulk-import CSV){note[anonymous]}")
