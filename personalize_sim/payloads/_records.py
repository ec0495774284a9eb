"""Items, users and actions frames ⇄ PutItems, PutUsers and PutActions requests.

A frame holds one record per row: the dataset's id column (``ITEM_ID``, ``USER_ID``,
``ACTION_ID``) and UPPER_SNAKE_CASE metadata columns, which become the record's
``properties`` (a JSON object string, camelCase keys: ``CATEGORY_L1`` → ``categoryL1``;
values as :mod:`._values` writes them). Lower-case columns are ground truth and never
sent. Records go in frame order, 10 to a request (the model's maximum).

Every record is checked against every limit of its operation in botocore's model (by
:func:`personalize_sim.limits.check_request`, as the emulator checks it), plus the
documented rules the model cannot carry: the reserved fields' types, the number of
metadata fields a schema of the dataset type may hold, whole seconds for times.

>>> import pandas as pd
>>> items = pd.DataFrame({"ITEM_ID": ["i1"], "GENRES": [["drama", "crime"]], "PRICE": [9.5]})
>>> arn = "arn:aws:personalize:us-east-1:123456789012:dataset/shop/ITEMS"
>>> (request,) = to_put_items(items, arn)
>>> request["items"]
[{'itemId': 'i1', 'properties': '{"genres":"drama|crime","price":9.5}'}]
>>> from_put_records([request])["GENRES"].tolist()
['drama|crime']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from .. import _operations as operations
from .. import _schema as schema
from .. import limits
from .._checks import instance, one_of
from ..errors import ConfigError, ConfigTypeError, PayloadError
from ._datasets import dataset_arn as group_dataset_arn
from ._problems import ProblemReport
from ._values import encode_column, metadata_columns, ordered_keys, typed_column

__all__ = [
    "from_put_records",
    "to_put_actions",
    "to_put_items",
    "to_put_users",
]


def to_put_items(
    frame: pd.DataFrame, dataset_arn: str, *, errors: Literal["raise", "collect"] = "raise"
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """PutItems requests for the items of ``frame``: ``client.put_items(**request)``.

    Raises :class:`~personalize_sim.errors.PayloadError` listing every problem (row, field,
    reason, value, limit); ``errors="collect"`` returns ``(requests for the valid rows,
    problems)`` instead. ``dataset_arn`` is an Items dataset's ARN, or its dataset group's
    (``…:dataset-group/NAME`` names ``…:dataset/NAME/ITEMS``). :func:`from_put_records` is
    the exact inverse.
    """
    return to_put_records("PutItems", frame, dataset_arn, errors=errors)


def to_put_users(
    frame: pd.DataFrame, dataset_arn: str, *, errors: Literal["raise", "collect"] = "raise"
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """PutUsers requests for the users of ``frame`` (as :func:`to_put_items`)."""
    return to_put_records("PutUsers", frame, dataset_arn, errors=errors)


def to_put_actions(
    frame: pd.DataFrame, dataset_arn: str, *, errors: Literal["raise", "collect"] = "raise"
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """PutActions requests for the actions of ``frame`` (as :func:`to_put_items`); the
    reserved ``VALUE``, ``REPEAT_FREQUENCY`` and the times must be whole numbers."""
    return to_put_records("PutActions", frame, dataset_arn, errors=errors)


def to_put_records(
    operation: str, frame: Any, dataset_arn: Any, *, errors: Literal["raise", "collect"]
) -> list[dict[str, Any]] | tuple[list[dict[str, Any]], pd.DataFrame]:
    """The converter of a record operation (PutItems, PutUsers, PutActions)."""
    import orjson

    one_of(errors, "errors", ("raise", "collect"))
    kind = operations.record_operation(operation)
    instance(frame, "frame", pd.DataFrame, "a DataFrame")
    if isinstance(dataset_arn, str) and ":dataset-group/" in dataset_arn:
        dataset_arn = group_dataset_arn(dataset_arn, kind.member)
    check_dataset_arn(operation, dataset_arn)
    problems = ProblemReport(labels=frame.index)
    n = len(frame)
    id_column = kind.id_column if kind.id_column in frame.columns else kind.key
    ids = np.full(n, None, dtype=object)
    if id_column not in frame.columns:
        problems.add(None, kind.id_column, "missing_column", None, f"required in {operation}")
    else:
        ids = _ids(frame[id_column], id_column, problems)
    columns = metadata_columns(frame, (kind.id_column, kind.key))
    reserved = limits.RESERVED_FIELDS[kind.dataset_type]
    _check_field_count(kind, columns, reserved, problems)
    keys, encoded = [], []
    for column in columns:
        key = schema.camel_case(column)
        if key is None or key == kind.key:
            problems.add(None, column, "bad_key", column, "UPPER_SNAKE_CASE, not the id field")
            continue
        keys.append(key)
        long = reserved.get(column) == "long"
        encoded.append(encode_column(frame[column], column, problems, long=long))
    records: list[dict[str, Any]] = []
    for i in range(n):
        record: dict[str, Any] = {kind.key: ids[i]}
        props = {k: v[i] for k, v in zip(keys, encoded, strict=True) if v[i] is not None}
        if props:
            record["properties"] = orjson.dumps(props).decode()
        records.append(record)
    _check_records(kind, dataset_arn, records, id_column, problems)
    report = problems.frame()
    if len(report) and errors == "raise":
        raise PayloadError(report, what=f"{kind.member} frame")
    keep = np.ones(n, dtype=bool)
    if problems.column_level():
        keep[:] = False
    bad = problems.bad_positions()
    keep[bad[bad >= 0]] = False
    kept = [records[i] for i in np.flatnonzero(keep)]
    size = limits.operation_limits(operation).field(kind.member).max or 10
    requests = [
        {"datasetArn": dataset_arn, kind.member: kept[i : i + size]}
        for i in range(0, len(kept), size)
    ]
    return (requests, report) if errors == "collect" else requests


def from_put_records(requests: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """The frame of PutItems, PutUsers or PutActions ``requests`` (all of one operation): the
    exact inverse of :func:`to_put_items`, :func:`to_put_users` and :func:`to_put_actions`.

    The id column is the dataset's (``ITEM_ID``…); property keys become UPPER_SNAKE_CASE
    columns, ordered as the records give them; the reserved times (``CREATION_TIMESTAMP``…)
    come back as UTC datetimes, other values typed by :func:`._values.typed_column`. No
    requests give an empty frame.
    """
    import orjson

    requests = list(requests)
    if not requests:
        return pd.DataFrame()
    kinds = {operations.operation_of(r) for r in requests}
    if len(kinds) != 1 or not kinds <= set(operations.RECORD_OPERATIONS):
        raise ConfigError(
            "requests", sorted(kinds), "requests of one of PutItems, PutUsers, PutActions"
        )
    kind = operations.record_operation(kinds.pop())
    ids: list[str] = []
    props: list[dict[str, Any]] = []
    for request in requests:
        for record in request[kind.member]:
            ids.append(record[kind.key])
            text = record.get("properties")
            props.append(orjson.loads(text) if text else {})
    return records_frame(kind.id_column, ids, props, limits.RESERVED_FIELDS[kind.dataset_type])


def records_frame(
    id_column: str, ids: list[str], props: list[dict[str, Any]], reserved: Mapping[str, str]
) -> pd.DataFrame:
    """A dataset frame from ids and decoded properties (shared with the emulator's reader)."""
    frame = pd.DataFrame({id_column: pd.Series(ids, dtype="str")})
    for key in ordered_keys(props):
        column = schema.snake_upper(key)
        time = column in limits.TIME_FIELDS and reserved.get(column) == "long"
        frame[column] = typed_column([p.get(key) for p in props], time=time)
    return frame


def check_dataset_arn(operation: str, arn: Any) -> None:
    """A dataset ARN the operation accepts: the model's pattern, and the operation's own
    dataset type (``…:dataset/GROUP/ITEMS`` for PutItems), as the service requires."""
    kind = operations.record_operation(operation)
    probe = {"datasetArn": arn, kind.member: [{kind.key: "x"}]}
    for violation in limits.check_request(operation, probe):
        error = ConfigError if isinstance(arn, str) else ConfigTypeError
        raise error("dataset_arn", arn, violation.message)
    if arn.rsplit(":", 1)[-1].split("/")[::2] != ["dataset", kind.dataset_type]:
        raise ConfigError(
            "dataset_arn", arn, f"the ARN of a {kind.dataset_type.title()} dataset "
            f"(arn:aws:personalize:REGION:ACCOUNT:dataset/GROUP/{kind.dataset_type})",
        )  # fmt: skip


def _ids(series: pd.Series, column: str, problems: ProblemReport) -> np.ndarray:
    """Ids as strings (integers written in decimal); nulls and other types reported."""
    values = series.to_numpy(dtype=object, na_value=None)
    out = np.full(len(values), None, dtype=object)
    missing = np.zeros(len(values), dtype=bool)
    wrong = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            missing[i] = True
        elif isinstance(value, str):
            out[i] = value
        elif isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
            out[i] = str(int(value))
        else:
            wrong[i] = True
    problems.add(missing, column, "missing", values, "an id on every row")
    problems.add(wrong, column, "wrong_type", values, "a string or an integer")
    return out


def _check_field_count(
    kind: operations.RecordOperation,
    columns: list[str],
    reserved: Mapping[str, str],
    problems: ProblemReport,
) -> None:
    most = limits.METADATA_MAX_FIELDS[kind.dataset_type]
    metadata = [c for c in columns if c not in reserved]
    if len(metadata) > most:
        problems.add(
            None, ", ".join(metadata[most:]), "too_many_fields", len(metadata),
            f"at most {most} metadata fields in a {kind.dataset_type.title()} schema",
        )  # fmt: skip


def _check_records(
    kind: operations.RecordOperation,
    arn: str,
    records: list[dict[str, Any]],
    id_column: str,
    problems: ProblemReport,
) -> None:
    """Each record against the model, as a request of its own; a violation names its row."""
    n = len(records)
    prefix = f"{kind.member}[0]."
    for i, record in enumerate(records):
        if record[kind.key] is None:
            continue  # reported already
        for violation in limits.check_request(
            kind.name, {"datasetArn": arn, kind.member: [record]}
        ):
            member = violation.path.removeprefix(prefix)
            field = id_column if member == kind.key else member
            mask = np.zeros(n, dtype=bool)
            mask[i] = True
            value = violation.value
            if member == "properties" and isinstance(value, str):
                value = f"<{len(value)} characters>"
            problems.add(mask, field, violation.reason, [value] * n, violation.limit)
