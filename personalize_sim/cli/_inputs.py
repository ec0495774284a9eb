"""Reading the files the commands take: one reader, so every command refuses a bad file alike.

An events file is read by its suffix; a folder, as the Parquet parts ``generate --out DIR``
wrote (checked against the manifest it leaves beside them, so another run's parts or a
stray file are never mixed in). Whatever cannot be read is a one-line :class:`UsageError`
naming the argument and the path, with the line, row or column at fault: missing,
unreadable, empty, binary or malformed, a column the command needs, or a ``TIMESTAMP``
that is no time between 1970 and 2100. Times come back as UTC datetimes: numbers in
``time_unit`` or, without one, in the unit their size says (``_timestamps.epoch_ns_of``).
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personalize_sim.errors import ConfigError

from ._failures import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from personalize_sim._timestamps import TimeUnit

__all__ = [
    "FORMATS",
    "MANIFEST",
    "events_path",
    "json_line",
    "listed",
    "parquet_parts",
    "read_file",
    "read_frame",
    "write_manifest",
]

#: the suffixes read_frame knows (and a folder of .parquet parts)
FORMATS = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson")
#: what ``generate --out DIR`` writes beside its parts (Parquet readers skip ``_`` files)
MANIFEST = "_manifest.json"
_MANIFEST_FORMAT = "personalize-sim parts 1"
#: bytes looked at to tell a binary file from text
_SNIFF = 65_536


def events_path(name: str, what: str) -> Path:
    """``name`` as a path that exists (``what`` names it in the error: ``INPUT``, ``--items``)."""
    path = Path(name)
    if not path.exists():
        raise UsageError(f"{what} {path}: no such file or folder")
    if not path.is_dir() and path.suffix.lower() not in FORMATS:
        raise UsageError(f"{what} {path}: use a {', '.join(FORMATS)} file or a folder of parts")
    if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
        raise UsageError(f"{what} {path}: not readable (permission denied)")
    return path


def read_frame(
    name: str | Path,
    what: str,
    *,
    needs: Collection[str] = (),
    time_unit: TimeUnit | None = None,
) -> pd.DataFrame:
    """The whole frame of a file or a folder of parts, its columns ``needs`` checked and
    its ``TIMESTAMP`` (when it has one) read as UTC datetimes."""
    import pandas as pd

    path = events_path(str(name), what)
    if not path.is_dir():
        return read_file(path, what, needs=needs, time_unit=time_unit)
    parts = [read_file(p, what, needs=needs, time_unit=time_unit)
             for p in parquet_parts(path, what)]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def read_file(
    path: Path,
    what: str,
    *,
    needs: Collection[str] = (),
    time_unit: TimeUnit | None = None,
) -> pd.DataFrame:
    """One file (or part) as a frame; see :func:`read_frame`."""
    label = f"{what} {path}"
    if path.stat().st_size == 0:
        raise UsageError(f"{label}: the file is empty (no events)")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame = _parquet(path, label)
    else:
        _text(path, label)
        frame = _csv(path, label, suffix) if suffix in (".csv", ".tsv") else _json(path, label)
    if not len(frame):
        raise UsageError(f"{label}: no events (the file has no rows)")
    missing = [c for c in needs if c not in frame.columns]
    if missing:
        raise UsageError(
            f"{label}: no {', '.join(missing)} column (it has {listed(frame.columns)}); "
            f"the command needs {', '.join(needs)}"
        )
    if "TIMESTAMP" in frame.columns:
        frame["TIMESTAMP"] = _times(frame["TIMESTAMP"], label, time_unit)
    return frame


def _times(column: pd.Series, label: str, time_unit: TimeUnit | None) -> Any:
    import pandas as pd

    from personalize_sim._timestamps import epoch_ns_of

    ns = epoch_ns_of(column, f"{label}: TIMESTAMP", time_unit)
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def listed(names: Any, most: int = 8) -> str:
    """The first ``most`` of ``names``, and how many there are in all."""
    names = [str(c) for c in names]
    more = f", … ({len(names):,} in all)" if len(names) > most else ""
    return (", ".join(names[:most]) + more) or "none"


def _parquet(path: Path, label: str) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PAR1":
        raise UsageError(f"{label}: not a Parquet file (it does not start with PAR1)")
    try:
        return pd.read_parquet(path)
    except (pa.ArrowException, ValueError, TypeError, OSError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise UsageError(f"{label}: not a readable Parquet file ({reason})") from None


def _text(path: Path, label: str) -> None:
    """Refuse a binary file before a text parser guesses at it."""
    with open(path, "rb") as f:
        head = f.read(_SNIFF)
    if b"\0" in head:
        raise UsageError(f"{label}: a binary file, not {path.suffix.lstrip('.')} text")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < _SNIFF)
    except UnicodeDecodeError as e:
        raise UsageError(_not_utf8(label, e)) from None


def _not_utf8(label: str, error: UnicodeDecodeError) -> str:
    byte = error.object[error.start]
    return f"{label}: not UTF-8 text (byte 0x{byte:02x} at offset {error.start}): save it as UTF-8"


def _csv(path: Path, label: str, suffix: str) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", low_memory=False)
    except pd.errors.EmptyDataError:
        raise UsageError(f"{label}: no header row (the file holds only blank lines)") from None
    except pd.errors.ParserError as e:
        reason = " ".join(str(e).split())
        raise UsageError(f"{label}: not a {suffix.lstrip('.').upper()} file ({reason})") from None
    except UnicodeDecodeError as e:
        raise UsageError(_not_utf8(label, e)) from None


def _json(path: Path, label: str) -> pd.DataFrame:
    """JSON lines (one object per line) or a JSON array of objects."""
    import pandas as pd

    try:
        if path.suffix.lower() != ".json":
            with open(path, encoding="utf-8") as f:
                rows = [_row(path, n, json_line(path, n, line)) for n, line in enumerate(f, 1)
                        if line.strip()]  # fmt: skip
        else:
            rows = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(rows, list):
                raise UsageError(f"{label}: a JSON array of events rows (got a JSON "
                                 f"{type(rows).__name__})")  # fmt: skip
            rows = [_row(path, f"item {i}", row) for i, row in enumerate(rows)]
    except UnicodeDecodeError as e:
        raise UsageError(_not_utf8(label, e)) from None
    except json.JSONDecodeError as e:
        raise UsageError(f"{label}: not JSON ({e.msg}, line {e.lineno} column {e.colno})") from None
    return pd.DataFrame.from_records(rows)


def _row(path: Path, where: int | str, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        where = f"line {where}" if isinstance(where, int) else where
        raise ConfigError(f"{path} {where}", row, "one JSON object of events columns per row")
    return row


def json_line(path: Path, number: int, line: str) -> Any:
    """One line of a JSON-lines file, or a ConfigError naming the file and the line."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{path} line {number}", line.strip(),
            f"one JSON object per line ({e.msg}, column {e.colno})",
        ) from None  # fmt: skip


def parquet_parts(path: Path, what: str) -> list[Path]:
    """The parts of a folder, in name order (``part-00000.parquet`` …): those its manifest
    lists, all present and nothing else; without a manifest, every .parquet file, which
    must share one set of columns."""
    parts = sorted(path.glob("*.parquet"))
    manifest = path / MANIFEST
    if manifest.is_file():
        named = _manifest_parts(manifest, what)
        stray = [p.name for p in parts if p.name not in named]
        if stray:
            raise UsageError(
                f"{what} {path}: {listed(stray, 3)} {'is' if len(stray) == 1 else 'are'} not "
                f"among the parts its {MANIFEST} lists (another run's?): move "
                f"{'it' if len(stray) == 1 else 'them'} out, or generate into an empty folder"
            )
        lost = [name for name in named if not (path / name).is_file()]
        if lost:
            raise UsageError(f"{what} {path}: part {lost[0]} of its {MANIFEST} is missing")
        return [path / name for name in sorted(named)]
    if not parts:
        raise UsageError(f"{what} {path}: a folder of .parquet parts (it has none)")
    _one_schema(parts, what)
    return parts


def _manifest_parts(manifest: Path, what: str) -> list[str]:
    try:
        about = json.loads(manifest.read_text(encoding="utf-8"))
        parts = about["parts"] if about.get("format") == _MANIFEST_FORMAT else None
    except (ValueError, AttributeError, KeyError, TypeError):
        parts = None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise UsageError(f"{what} {manifest}: not a manifest of generate's parts "
                         f"(format {_MANIFEST_FORMAT!r}, a list of parts)")  # fmt: skip
    return parts


def _one_schema(parts: list[Path], what: str) -> None:
    """Parts written by one run share their columns; a stray file does not."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    first: list[str] | None = None
    for part in parts:
        try:
            names = pq.read_schema(part).names
        except (pa.ArrowException, OSError):  # read_file says what is wrong with it
            continue
        if first is None:
            first = names
        elif names != first:
            raise UsageError(
                f"{what} {part}: other columns than {parts[0].name} ({listed(names, 4)} against "
                f"{listed(first, 4)}): a folder holds the parts of one run; move it out"
            )


def write_manifest(folder: Path, parts: list[Path], **about: Any) -> Path:
    """Name the parts of one run in ``folder`` (what :func:`parquet_parts` checks)."""
    manifest = folder / MANIFEST
    body = {"format": _MANIFEST_FORMAT, "parts": [p.name for p in parts], **about}
    manifest.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    return manifest
