"""Reading the files the commands take: one events frame by the file's suffix, or a folder
of Parquet parts (what ``generate --out DIR`` writes). A file that cannot be read is a
:class:`UsageError` naming the argument, the path and what would work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_sim.errors import ConfigError

from ._failures import UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FORMATS", "events_path", "json_line", "parquet_parts", "read_frame"]

#: the suffixes read_frame knows (and a folder of .parquet parts)
FORMATS = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson")


def events_path(name: str, what: str) -> Path:
    """``name`` as a path that exists (``what`` names it in the error: ``INPUT``, ``--items``)."""
    path = Path(name)
    if not path.exists():
        raise UsageError(f"{what} {path}: no such file or folder")
    if not path.is_dir() and path.suffix.lower() not in FORMATS:
        raise UsageError(f"{what} {path}: use a {', '.join(FORMATS)} file or a folder of parts")
    return path


def parquet_parts(path: Path, what: str) -> list[Path]:
    """The .parquet files of a folder, in name order (``part-00000.parquet`` …)."""
    parts = sorted(path.glob("*.parquet"))
    if not parts:
        raise UsageError(f"{what} {path}: a folder of .parquet parts (it has none)")
    return parts


def read_frame(name: str | Path, what: str) -> pd.DataFrame:
    """The whole frame of a file or a folder of Parquet parts."""
    import pandas as pd

    path = events_path(str(name), what)
    suffix = path.suffix.lower()
    if path.is_dir():
        return pd.concat([pd.read_parquet(p) for p in parquet_parts(path, what)],
                         ignore_index=True)  # fmt: skip
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".csv", ".tsv"):
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    lines = suffix != ".json"
    try:
        return pd.read_json(path, lines=lines)
    except ValueError:
        if not lines:
            raise UsageError(f"{what} {path}: not a JSON array of events rows") from None
        with open(path, encoding="utf-8") as f:  # find the line to name it
            for number, line in enumerate(f, 1):
                if line.strip():
                    json_line(path, number, line)
        raise


def json_line(path: Path, number: int, line: str) -> Any:
    """One line of a JSON-lines file, or a ConfigError naming the file and the line."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{path} line {number}", line.strip(),
            f"one JSON object per line ({e.msg}, column {e.colno})",
        ) from None  # fmt: skip
