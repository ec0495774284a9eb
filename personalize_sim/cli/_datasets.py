"""``personalize-sim generate --datasets DIR``: every dataset of the simulated dataset group.

DIR receives ``interactions``, ``items``, ``users``, ``actions`` and ``action_interactions``,
each a Parquet file (``--datasets-format parquet``, the default: the frames as they are,
ground truth included) or a bulk-import CSV with its Avro schema beside it (``csv``:
``items.csv`` and ``items.schema.json``…), which ``personalize-sim stream`` reads back.
A folder holding other files is refused; one holding a run of these files is replaced
only with ``--overwrite``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from personalize_sim.errors import ConfigError

from ._inputs import listed
from ._outputs import output_folder

__all__ = ["DATASET_FILES", "check_datasets_folder", "write_datasets"]

DATASET_FILES = ("interactions", "items", "users", "actions", "action_interactions")


def _names(fmt: str) -> list[str]:
    if fmt == "parquet":
        return [f"{name}.parquet" for name in DATASET_FILES]
    return [f"{name}{suffix}" for name in DATASET_FILES for suffix in (".csv", ".schema.json")]


def check_datasets_folder(name: str, fmt: str, *, overwrite: bool) -> Path:
    """The folder ``--datasets`` names, refused before simulating if it cannot take the run."""
    folder = output_folder("--datasets", name)
    if not folder.is_dir():
        return folder
    held = sorted(p.name for p in folder.iterdir())
    ours = set(_names("parquet")) | set(_names("csv"))
    foreign = [n for n in held if n not in ours]
    if foreign:
        raise ConfigError(
            "datasets", name, f"an empty or new folder, or one of an earlier run "
            f"({listed(foreign, 3)} are not generate's): move them out first",
        )  # fmt: skip
    if held and not overwrite:
        raise ConfigError(
            "datasets", name, f"an empty or new folder ({name} holds {listed(held, 3)}): "
            "pass --overwrite to replace them, or another folder",
        )  # fmt: skip
    return folder


def write_datasets(group: Any, folder: Path, fmt: str, anonymous: str) -> None:
    """Write the five datasets of ``group`` (a :class:`~personalize_sim.simulation.DatasetGroup`)
    into ``folder`` and say what was written, one line each."""
    from personalize_sim.payloads import to_bulk_csv
    from personalize_sim.simulation import write_parquet

    folder.mkdir(parents=True, exist_ok=True)
    for stale in _names("parquet") + _names("csv"):
        (folder / stale).unlink(missing_ok=True)
    for name, frame in group.frames().items():
        if fmt == "parquet":
            path = folder / f"{name}.parquet"
            if name == "interactions":
                write_parquet(frame, path)
            else:
                frame.to_parquet(path, index=False)
            print(f"wrote {len(frame):,} {name.replace('_', ' ')} to {path}")
            continue
        path = folder / f"{name}.csv"
        users = frame["USER_ID"] if "USER_ID" in frame.columns and name != "users" else None
        to_bulk_csv(frame, path, anonymous=anonymous)  # type: ignore[arg-type]
        written = len(frame)
        note = ""
        if users is not None and anonymous == "drop" and users.isna().any():
            written -= int(users.isna().sum())
            note = f"; left out {int(users.isna().sum()):,} anonymous rows"
        print(f"wrote {written:,} {name.replace('_', ' ')} to {path} (bulk-import CSV and "
              f"{path.stem}.schema.json){note}")  # fmt: skip
