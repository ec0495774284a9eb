"""Junk files fed to every command that reads one: never a traceback; a file that cannot
work is refused in exactly one line and exit 2.

Hypothesis writes the files (empty, binary, random CSV/TSV/JSON/JSONL, Parquet with wrong
types, extreme numbers, mixed types, missing columns) and runs ``personalize-sim`` in this
process through ``cli.main`` (what the console script calls; the test run turns every
warning into an error, so a warning a user would see on stderr fails here too); a few
fixed junk files also go through real processes. Derandomized: the same files every run.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalize_sim.cli import main

from .conftest import cli

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
COMMANDS = ("fit", "realism", "attribution", "stream")
#: columns a junk file draws from (no ``sentAt``: an alias of TIMESTAMP)
COLUMNS = ("USER_ID", "SESSION_ID", "ITEM_ID", "EVENT_TYPE", "EVENT_VALUE", "IMPRESSION",
           "RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE", "EVENT_ID", "DISCOUNT", "userId",
           "persona", "")  # fmt: skip
#: TIMESTAMP values that are no time between 1970 and 2100
BAD_TIMES = st.one_of(
    st.sampled_from(["garbage", "", "2026-13-45", "1e30", "nan", "yesterday", "-1"]),
    st.sampled_from([1e30, -1.0, float("inf"), float("-inf"), float("nan"), 2**63 - 1, -(2**62),
                     5e18, True, None]),
    # past 2100 even as nanoseconds (smaller ones read as ns are times: 1e17 is 1973)
    st.integers(min_value=4_200_000_000_000_000_000, max_value=2**70),
)  # fmt: skip
GOOD_TIMES = st.one_of(
    st.integers(min_value=1_700_000_000, max_value=1_700_000_000 + 30 * 86_400),
    st.sampled_from(["2026-01-05T00:00:00Z", "2026-01-05 10:00:00+01:00", "2026-01-06"]),
)
CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["View", "Purchase", "u1", "i1", "|", "a|b", "1e30", "", "inf", "null"]),
)
JSON_CELLS = st.one_of(
    CELLS,
    st.lists(st.text(max_size=4), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def rows(
    times: st.SearchStrategy[Any] | None,
    cells: st.SearchStrategy[Any],
    always: tuple[str, ...] = (),
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """1 to 4 rows over the ``always`` columns and a few more; with ``times`` None, no
    TIMESTAMP column at all."""
    names = st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=5, unique=True)

    @st.composite
    def build(draw: Any) -> list[dict[str, Any]]:
        columns = list(dict.fromkeys([*always, *draw(names)]))
        n = draw(st.integers(min_value=1, max_value=4))
        out = [{c: draw(cells) for c in columns} for _ in range(n)]
        if times is not None:
            stamps = draw(st.lists(times, min_size=n, max_size=n))
            for row, stamp in zip(out, stamps, strict=True):
                row["TIMESTAMP"] = stamp
        return out

    return build()


def text_file(table: list[dict[str, Any]], suffix: str) -> bytes:
    """``table`` as CSV, TSV, a JSON array or JSON lines."""
    if suffix in (".csv", ".tsv"):
        buffer = io.StringIO()
        names = list(dict.fromkeys(k for row in table for k in row))
        writer = csv.writer(buffer, delimiter="\t" if suffix == ".tsv" else ",")
        writer.writerow(names)
        writer.writerows([["" if row.get(k) is None else row.get(k) for k in names]
                          for row in table])  # fmt: skip
        return buffer.getvalue().encode()
    if suffix == ".json":
        return json.dumps(table).encode()
    return "".join(json.dumps(row) + "\n" for row in table).encode()


#: Arrow types a Parquet column may have, with the values drawn for it
ARROW = {
    "int": (pa.int64(), st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    "float": (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "bool": (pa.bool_(), st.booleans()),
    "string": (pa.string(), st.text(max_size=8)),
    "list": (pa.list_(pa.string()), st.lists(st.text(max_size=3), max_size=3)),
    "binary": (pa.binary(), st.binary(max_size=6)),
    "old time": (pa.timestamp("us", tz="UTC"),
                 st.integers(min_value=-(2**50), max_value=-1)),  # before 1970
    "null": (pa.null(), st.none()),
}  # fmt: skip


@st.composite
def parquet_file(draw: Any, *, good_time: bool) -> bytes:
    """A Parquet file whose columns have arbitrary (often wrong) types."""
    n = draw(st.integers(min_value=1, max_value=4))
    columns = draw(st.lists(st.sampled_from(COLUMNS), max_size=4, unique=True))
    arrays = {}
    for name in columns:
        kind, values = ARROW[draw(st.sampled_from(sorted(ARROW)))]
        arrays[name or "blank"] = pa.array(draw(st.lists(values, min_size=n, max_size=n)), kind)
    if good_time:
        seconds = draw(st.lists(GOOD_TIMES.filter(lambda t: isinstance(t, int)), min_size=n,
                                max_size=n))  # fmt: skip
        arrays["TIMESTAMP"] = pa.array(seconds, pa.int64())
    elif draw(st.booleans()):  # else: no TIMESTAMP at all
        kind, values = ARROW[draw(st.sampled_from(["bool", "list", "binary", "old time", "null"]))]
        arrays["TIMESTAMP"] = pa.array(draw(st.lists(values, min_size=n, max_size=n)), kind)
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays) if arrays else pa.table({}), buffer)
    return buffer.getvalue()


SUFFIXES = (".csv", ".tsv", ".json", ".jsonl")
#: files no command can read: each has no TIMESTAMP, a TIMESTAMP that is no time, or no rows
JUNK = st.one_of(
    st.tuples(st.sampled_from((*SUFFIXES, ".parquet", ".ndjson")), st.just(b"")),
    st.tuples(st.sampled_from((*SUFFIXES, ".parquet")), st.binary(min_size=1, max_size=300)),
    st.tuples(st.sampled_from(SUFFIXES), st.text(max_size=200).map(str.encode)),
    st.builds(lambda s, t: (s, text_file(t, s)), st.sampled_from(SUFFIXES),
              rows(None, JSON_CELLS) | rows(BAD_TIMES, JSON_CELLS)),
    st.tuples(st.just(".parquet"), parquet_file(good_time=False)),
    st.tuples(st.sampled_from([".json", ".jsonl"]),
              st.sampled_from([b"5", b'"x"', b"null", b"[1, 2]", b"{}", b'{"a": [1}'])),
)  # fmt: skip
#: the columns every command looks at, mostly with values that work
LIKELY = st.one_of(st.sampled_from(["u1", "u2", "i1", "i2", "View", "Purchase", "s1"]), JSON_CELLS)
#: files whose TIMESTAMPs are fine and everything else may be junk: anything but a traceback
PLAUSIBLE = st.one_of(
    st.builds(lambda s, t: (s, text_file(t, s)), st.sampled_from(SUFFIXES),
              rows(GOOD_TIMES, LIKELY, ("USER_ID", "SESSION_ID", "ITEM_ID", "EVENT_TYPE"))),
    st.tuples(st.just(".parquet"), parquet_file(good_time=True)),
)  # fmt: skip


def run_all(suffix: str, content: bytes) -> dict[str, tuple[int, str]]:
    """Each command on the file: exit code and stderr."""
    out: dict[str, tuple[int, str]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        path = tmp / f"junk{suffix}"
        path.write_bytes(content)
        good = tmp / "good.csv"
        good.write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1700000000\nu1,i2,1700000060\n")
        metrics = tmp / "metrics.json"
        metric = {"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"}
        metrics.write_text(json.dumps({"metrics": [metric]}))
        argv = {
            "fit": ["fit", str(path), "--out", str(tmp / "fitted.yaml")],
            "realism": ["realism", str(good), str(path)],
            "attribution": ["attribution", str(path), "--metrics", str(metrics),
                            "--now", "2026-01-10T00:00:00Z", "--out", str(tmp / "report")],
            "stream": ["stream", str(path), "--dry-run", str(tmp / "dry.jsonl"),
                       "--no-progress", "--rate", "100000"],
        }  # fmt: skip
        for command in COMMANDS:
            with _Captured() as err:
                code = main(argv[command])
            out[command] = (code, err.getvalue())
    return out


class _Captured:
    """stderr of an in-process run (capsys cannot be used inside a Hypothesis test)."""

    def __enter__(self) -> io.StringIO:
        import contextlib

        self.buffer = io.StringIO()
        self.redirect = contextlib.redirect_stderr(self.buffer)
        self.silence = contextlib.redirect_stdout(io.StringIO())
        self.silence.__enter__()
        self.redirect.__enter__()
        return self.buffer

    def __exit__(self, *exc: object) -> None:
        self.redirect.__exit__(*exc)
        self.silence.__exit__(*exc)


def refused_in_one_line(command: str, code: int, err: str, *, names_file: bool = True) -> None:
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1, (command, code, err)
    assert lines[0].startswith(f"personalize-sim {command}: "), err
    assert "junk." in lines[0] or not names_file, err  # the file it could not read


@settings(SETTINGS, max_examples=150)
@given(JUNK)
def test_junk_is_refused_in_one_line_and_exit_2(file):
    suffix, content = file
    for command, (code, err) in run_all(suffix, content).items():
        assert "Traceback" not in err, err
        if command == "stream" and code == 0 and _records_by_columns(content):
            continue  # a users (items, actions) dataset by its columns: PutUsers takes it
        refused_in_one_line(command, code, err)


def _records_by_columns(content: bytes) -> bool:
    """A text file whose header is that of a users, items or actions dataset (an id column
    and no TIMESTAMP): since issue 24, ``stream`` sends such a file (Hypothesis found
    ``USER_ID`` over one row)."""
    text = content.decode("utf-8", "replace")
    try:  # JSON: the keys of its records
        parsed = json.loads(text)
        records = parsed if isinstance(parsed, list) else [parsed]
        columns = {k for r in records if isinstance(r, dict) for k in r}
    except ValueError:
        lines = text.splitlines() or [""]
        try:  # JSON lines
            columns = {k for line in lines if line.strip() for k in json.loads(line)}
        except (ValueError, TypeError):
            header = lines[0].replace("\t", ",")
            columns = {c.strip().strip('"') for c in header.split(",")}
    return bool(columns & {"USER_ID", "ITEM_ID", "ACTION_ID"}) and "TIMESTAMP" not in columns


@settings(SETTINGS, max_examples=80)
@given(PLAUSIBLE)
def test_junk_beside_good_times_never_shows_a_traceback(file):
    suffix, content = file
    allowed = {"fit": {0, 2}, "realism": {0, 1, 2}, "attribution": {0, 2}, "stream": {0, 2}}
    for command, (code, err) in run_all(suffix, content).items():
        assert "Traceback" not in err, err
        assert code in allowed[command], (command, code, err)
        if code == 2:  # what is wrong may be in the values: the line names them
            refused_in_one_line(command, code, err, names_file=False)


def _wrong_types() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"TIMESTAMP": pa.array([[1]], pa.list_(pa.int64())),
                             "USER_ID": pa.array([1.5])}), buffer)  # fmt: skip
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("suffix", "content"),
    [(".parquet", _wrong_types()),
     (".jsonl", b'{"USER_ID": 1, "TIMESTAMP": [1]}\n{"TIMESTAMP": {"a": 1}}\n'),
     (".csv", "USER_ID,TIMESTAMP\n\u00e9,1e400\n".encode())],
)  # fmt: skip
def test_junk_in_real_processes(tmp_path, suffix, content):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(content)
    for argv in (["fit", str(path), "--out", str(tmp_path / "x.yaml")],
                 ["stream", str(path), "--dry-run", str(tmp_path / "d.jsonl")]):  # fmt: skip
        done = cli(*argv)
        assert "Traceback" not in done.stderr
        refused_in_one_line(argv[0], done.returncode, done.stderr)
