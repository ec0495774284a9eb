"""Bulk import: an interactions CSV and the Avro schema that matches it (the other datasets:
:mod:`._bulk_datasets`, which :func:`to_bulk_csv` hands them to).

The CSV follows the dataset rules (reference §3.2): a header row in the
schema's field order, ``TIMESTAMP`` in epoch seconds (the format has no
finer unit), multi-value ``IMPRESSION`` joined with ``|``, booleans as
``true``/``false``, nulls as empty cells. Categorical and impression values
longer than the dataset limit are reported, never cut.

>>> import pandas as pd
>>> frame = pd.DataFrame({"USER_ID": ["u1"], "ITEM_ID": ["i1"], "EVENT_TYPE": ["View"],
...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"], utc=True)})
>>> [f["name"] for f in interactions_schema(frame)["fields"]]
['USER_ID', 'ITEM_ID', 'TIMESTAMP', 'EVENT_TYPE']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import _schema as schema
from .. import limits
from .._checks import check, one_of
from ..errors import PayloadError
from ._bulk_datasets import write_dataset_csv
from ._columns import resolve_columns
from ._convert import validate_events
from ._datasets import dataset_type
from ._problems import ProblemReport
from ._properties import property_columns
from ._sent_at import TimeUnit, epoch_microseconds

__all__ = ["interactions_schema", "to_bulk_csv"]

# Order of the reserved interactions fields in the schema (and so in the CSV header).
_RESERVED = (
    (schema.USER_ID, "string", True),
    (schema.ITEM_ID, "string", True),
    (schema.TIMESTAMP, "long", True),
    (schema.EVENT_TYPE, "string", False),
    (schema.EVENT_VALUE, "float", False),
    (schema.IMPRESSION, "string", False),
    (schema.RECOMMENDATION_ID, "string", False),
    (schema.ATTRIBUTION_SOURCE, "string", False),
)
_AVRO_TYPES = {"b": "boolean", "i": "long", "u": "long", "f": "float"}


def interactions_schema(
    frame: pd.DataFrame, *, properties: Sequence[str] | None = None
) -> dict[str, Any]:
    """The Avro schema (as a dict) of an interactions dataset holding ``frame``'s columns.

    Required fields always appear; optional reserved fields and metadata columns
    (chosen as :func:`to_put_events` chooses properties) appear when the frame has them.
    """
    columns = _columns(frame, properties)
    fields = []
    for name, source in columns.items():
        kind, required = _field_kind(name, frame[source] if source else None)
        field: dict[str, Any] = {"name": name, "type": kind if required else [kind, "null"]}
        if kind == "string" and name not in dict.fromkeys(c for c, _, _ in _RESERVED):
            field["categorical"] = True
        fields.append(field)
    return {
        "type": "record",
        "name": "Interactions",
        "namespace": "com.amazonaws.personalize.schema",
        "fields": fields,
        "version": "1.0",
    }


def to_bulk_csv(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    schema_path: str | Path | None = None,
    properties: Sequence[str] | None = None,
    time_unit: TimeUnit | None = None,
    anonymous: Literal["raise", "drop", "session"] = "raise",
    dataset: str | None = None,
) -> dict[str, Any]:
    """Write ``frame`` as a bulk-import CSV and its schema JSON; return the schema.

    ``dataset`` (``interactions``, ``items``, ``users``, ``actions``, ``action_interactions``;
    by default :func:`dataset_type` of the frame) chooses the dataset's rules; this
    docstring is about interactions, the others are :func:`._bulk_datasets.write_dataset_csv`'s.

    The schema goes to ``schema_path`` (default: ``<path stem>.schema.json`` beside the
    CSV). Raises :class:`PayloadError` listing every row that cannot be imported: the
    checks of :func:`validate_events`, a missing ``USER_ID`` or ``ITEM_ID`` (both are
    required in a dataset), and values over the dataset's character limit.

    Anonymous events (no ``USER_ID``, as :func:`~personalize_sim.simulate` emits before a
    login) are rows a dataset cannot hold as they are: ``anonymous="drop"`` leaves them out
    (``frame["USER_ID"].isna().sum()`` of them), ``"session"`` imports them under their
    ``SESSION_ID`` as the user id, as the service suggests for users who never register.

    >>> import pandas as pd, tempfile
    >>> frame = pd.DataFrame({"USER_ID": ["u1", None], "SESSION_ID": ["s1", "s2"],
    ...                       "ITEM_ID": ["i1", "i2"], "EVENT_TYPE": ["View", "View"],
    ...                       "TIMESTAMP": pd.to_datetime(["2024-01-01"] * 2, utc=True)})
    >>> path = Path(tempfile.mkdtemp()) / "events.csv"
    >>> _ = to_bulk_csv(frame, path, anonymous="session")
    >>> print(path.read_text().strip())
    USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE
    u1,i1,1704067200,View
    s2,i2,1704067200,View
    """
    path = Path(path)
    frame = _with_anonymous(frame, one_of(anonymous, "anonymous", ("raise", "drop", "session")))
    dataset = dataset_type(frame) if dataset is None else dataset
    if dataset != "interactions":
        one_of(dataset, "dataset", ("items", "users", "actions", "action_interactions"))
        return write_dataset_csv(frame, path, dataset, schema_path=schema_path)
    problems = [validate_events(frame, properties=properties, time_unit=time_unit)]
    columns = _columns(frame, properties)
    problems.append(_bulk_problems(frame, columns))
    report = (
        pd.concat([p for p in problems if len(p)], ignore_index=True)
        if any(len(p) for p in problems)
        else problems[0]
    )
    if len(report):
        raise PayloadError(report, what="bulk export")

    out = pd.DataFrame(index=frame.index)
    for name, source in columns.items():
        series = frame[source]
        if name == schema.TIMESTAMP:
            out[name] = _epoch_seconds(series, time_unit)
        elif name == schema.IMPRESSION:
            out[name] = [_joined(v) for v in series.to_numpy(dtype=object)]
        elif pd.api.types.is_bool_dtype(series.dtype):
            out[name] = series.map({True: "true", False: "false"})
        else:
            out[name] = series
    out.to_csv(path, index=False, lineterminator="\n")
    avro = interactions_schema(frame, properties=properties)
    target = Path(schema_path) if schema_path else path.with_name(path.stem + ".schema.json")
    target.write_text(json.dumps(avro, indent=2) + "\n")
    return avro


def _with_anonymous(frame: pd.DataFrame, anonymous: str) -> pd.DataFrame:
    """``frame`` without its anonymous rows, or with their session id as the user id."""
    resolved = resolve_columns(frame)
    user, session = resolved.get(schema.USER_ID), resolved.get(schema.SESSION_ID)
    if anonymous == "raise" or not user:
        return frame
    missing = frame[user].isna().to_numpy()
    if not missing.any():
        return frame
    if anonymous == "drop":
        return frame.loc[~missing]
    check(session is not None, "anonymous", anonymous,
          "'raise' or 'drop': the frame has no SESSION_ID to use as the user id")  # fmt: skip
    frame = frame.copy()
    frame[user] = frame[user].astype(object).where(~missing, frame[session])
    return frame


def _columns(frame: pd.DataFrame, properties: Sequence[str] | None) -> dict[str, str]:
    """Dataset field name -> the frame column that fills it, in schema order."""
    resolved = resolve_columns(frame)
    columns = {
        name: resolved[name] for name, _, required in _RESERVED if name in resolved or required
    }
    named, _ = property_columns(frame, resolved, properties)
    for column in named:
        columns[schema.snake_upper(schema.camel_case(column) or column)] = column
    return {k: v for k, v in columns.items() if v}


def _field_kind(name: str, series: pd.Series | None) -> tuple[str, bool]:
    for reserved, kind, required in _RESERVED:
        if name == reserved:
            return kind, required
    assert series is not None
    return _AVRO_TYPES.get(series.dtype.kind, "string"), False


def _bulk_problems(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    found = ProblemReport(labels=frame.index)
    for name, _, required in _RESERVED:
        if required and name in columns:
            missing = frame[columns[name]].isna().to_numpy()
            found.add(
                missing,
                columns[name],
                "missing",
                [None] * len(frame),
                "required in an interactions dataset"
                + (
                    " (anonymous='drop' or 'session' exports anonymous events)"
                    if name == schema.USER_ID
                    else ""
                ),
            )
        elif required:
            found.add(None, name, "missing_column", None, "required in an interactions dataset")
    for name, source in columns.items():
        values = frame[source].to_numpy(dtype=object)
        if name == schema.IMPRESSION:
            text = np.array([_joined(v) or "" for v in values], dtype=object)
        elif (
            name in (schema.USER_ID, schema.ITEM_ID, schema.TIMESTAMP)
            or frame[source].dtype.kind in "biuf"
        ):
            continue
        else:
            text = np.array(
                [
                    ""
                    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                    else str(v)
                    for v in values
                ],
                dtype=object,
            )
        too_long = (
            np.fromiter(map(len, text), dtype=np.int64, count=len(text))
            > limits.BULK_VALUE_MAX_CHARS
        )
        found.add(
            too_long,
            source,
            "too_long",
            values,
            f"length <= {limits.BULK_VALUE_MAX_CHARS} in a bulk CSV",
        )
    return found.frame()


def _joined(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return value or None
    return schema.IMPRESSION_SEPARATOR.join(value)


def _epoch_seconds(series: pd.Series, time_unit: TimeUnit | None) -> np.ndarray:
    """Whole epoch seconds: the bulk format's unit (sub-second parts cannot be written).

    The column is read by the same converter as for PutEvents (already validated by
    :func:`validate_events`); only the floor to whole seconds is left to do here.
    """
    us = epoch_microseconds(series, schema.TIMESTAMP, time_unit, ProblemReport())
    return us // 1_000_000
