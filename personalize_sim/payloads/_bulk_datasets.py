"""Bulk import of items, users, actions and action interactions: a CSV and its Avro schema.

The rules are the service's for a Custom dataset group (docs/reference/personalize-events.md,
"Datasets beyond interactions"): each type's required fields, its reserved fields with their
types (``limits.RESERVED_FIELDS``), at least one metadata field for items, users and
actions and at most ``limits.METADATA_MAX_FIELDS`` of them, string metadata marked
``categorical`` (an item's ``DESCRIPTION`` is ``textual``), categorical values (lists
joined with ``|``) of at most 1000 characters, times in whole epoch seconds (an
interaction's ``TIMESTAMP`` floored to them, as the interactions CSV does; a record's
reserved times must be whole: they are what PutItems sends too), booleans as
``true``/``false``. Values are written by the same rule as the ``properties`` of PutItems
(:mod:`._values`), so a bulk file and a stream carry the same data. What would fail the
import job is refused with every problem listed, before anything is written.

>>> import pandas as pd, tempfile
>>> users = pd.DataFrame({"USER_ID": ["u1", "u2"], "MEMBERSHIP": ["gold", None]})
>>> path = Path(tempfile.mkdtemp()) / "users.csv"
>>> [f["name"] for f in write_dataset_csv(users, path, "users")["fields"]]
['USER_ID', 'MEMBERSHIP']
>>> print(path.read_text().strip())
USER_ID,MEMBERSHIP
u1,gold
u2,
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import limits
from ..errors import PayloadError
from ._problems import ProblemReport
from ._values import encode_column

__all__ = ["DATASET_SCHEMAS", "dataset_schema", "write_dataset_csv"]

#: per dataset: the schema's record name, its required fields (name, Avro type), the key
#: of RESERVED_FIELDS, and whether it needs a metadata field
DATASET_SCHEMAS: dict[str, tuple[str, tuple[tuple[str, str], ...], str, bool]] = {
    "items": ("Items", (("ITEM_ID", "string"),), "ITEMS", True),
    "users": ("Users", (("USER_ID", "string"),), "USERS", True),
    "actions": ("Actions", (("ACTION_ID", "string"),), "ACTIONS", True),
    "action_interactions": (
        "ActionInteractions",
        (
            ("USER_ID", "string"),
            ("ACTION_ID", "string"),
            ("EVENT_TYPE", "string"),
            ("TIMESTAMP", "long"),
        ),
        "ACTION_INTERACTIONS",
        False,
    ),
}
_AVRO = {"b": "boolean", "i": "long", "u": "long", "f": "float", "M": "long"}
#: Avro names: what a schema field may be called
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: string fields of items that hold free text, not categories
TEXTUAL = ("DESCRIPTION",)


def dataset_schema(frame: pd.DataFrame, dataset: str) -> dict[str, Any]:
    """The Avro schema (a dict) of a ``dataset`` (``items``, ``users``, ``actions``,
    ``action_interactions``) holding ``frame``'s UPPER_CASE columns, in their order."""
    record, required, reserved_key, _ = DATASET_SCHEMAS[dataset]
    reserved = limits.RESERVED_FIELDS[reserved_key]
    needed = dict(required)
    fields = []
    for name in _columns(frame, dataset):
        kind = needed.get(name) or reserved.get(name) or _kind(frame[name])
        nullable = name not in needed and bool(frame[name].isna().any())
        field: dict[str, Any] = {"name": name, "type": [kind, "null"] if nullable else kind}
        if kind == "string" and name not in needed and name not in reserved:
            textual = dataset == "items" and name in TEXTUAL
            field["textual" if textual else "categorical"] = True
        fields.append(field)
    return {
        "type": "record",
        "name": record,
        "namespace": "com.amazonaws.personalize.schema",
        "fields": fields,
        "version": "1.0",
    }


def write_dataset_csv(
    frame: pd.DataFrame, path: str | Path, dataset: str, *, schema_path: str | Path | None = None
) -> dict[str, Any]:
    """Write ``frame`` as the bulk CSV of ``dataset`` and its schema (default: beside it,
    ``<stem>.schema.json``); return the schema. Raises :class:`PayloadError` listing every
    row and column the import job would refuse; nothing is written then."""
    path = Path(path)
    record, required, reserved_key, needs_metadata = DATASET_SCHEMAS[dataset]
    reserved = limits.RESERVED_FIELDS[reserved_key]
    problems = ProblemReport(labels=frame.index)
    columns = _columns(frame, dataset)
    for name, _ in required:
        if name not in frame.columns:
            problems.add(None, name, "missing_column", None, f"required in the {record} dataset")
    metadata = [c for c in columns if c not in dict(required) and c not in reserved]
    most = limits.METADATA_MAX_FIELDS.get(reserved_key)
    if most is not None and len(metadata) > most:
        problems.add(None, ", ".join(metadata[most:]), "too_many_fields", len(metadata),
                     f"at most {most} metadata fields in the {record} schema")  # fmt: skip
    if needs_metadata and not metadata:
        problems.add(None, record, "no_metadata", None,
                     f"at least one metadata column in the {record} schema")  # fmt: skip
    out: dict[str, np.ndarray] = {}  # one frame at the end: inserts fragment it
    for name in columns:
        if not _NAME.fullmatch(name):
            problems.add(None, name, "bad_name", name, "an Avro name: [A-Za-z_][A-Za-z0-9_]*")
            continue
        series = frame[name]
        if name in dict(required):
            problems.add(series.isna().to_numpy(), name, "missing", series,
                         f"a value on every row of the {record} dataset")  # fmt: skip
        long = (dict(required).get(name) or reserved.get(name)) == "long"
        if name == "TIMESTAMP" and series.dtype.kind == "M":  # as the interactions CSV has it
            series = series.dt.floor("s")
        values = encode_column(series, name, problems, long=long)
        text = np.array(["" if v is None else _cell(v) for v in values], dtype=object)
        categorical = series.dtype.kind not in "biufM" and not long and name not in TEXTUAL
        if categorical or name == "IMPRESSION":
            lengths = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
            problems.add(lengths > limits.BULK_VALUE_MAX_CHARS, name, "too_long", series,
                         f"length <= {limits.BULK_VALUE_MAX_CHARS} in a bulk CSV")  # fmt: skip
        out[name] = text
    report = problems.frame()
    if len(report):
        raise PayloadError(report, what=f"{dataset} bulk export")
    pd.DataFrame(out, index=frame.index).to_csv(path, index=False, lineterminator="\n")
    schema = dataset_schema(frame, dataset)
    target = Path(schema_path) if schema_path else path.with_name(path.stem + ".schema.json")
    target.write_text(json.dumps(schema, indent=2) + "\n")
    return schema


def _columns(frame: pd.DataFrame, dataset: str) -> list[str]:
    """The frame's dataset columns, in order: UPPER_CASE ones beyond what a tracker adds."""
    from .. import _schema as schema

    skip = set(schema.NOT_SENT)
    if dataset == "action_interactions":
        skip |= {"SESSION_ID", "EVENT_ID"}  # PutActionInteractions fields no dataset holds
    return [c for c in frame.columns if isinstance(c, str) and c.isupper() and c not in skip]


def _kind(series: pd.Series) -> str:
    return _AVRO.get(series.dtype.kind, "string")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
