"""Every command that reads a file refuses a bad one in one line naming it, and exits 2:
empty, binary, not UTF-8, malformed, no rows, a TIMESTAMP that is no time; output paths
are refused before any work (``personalize_sim/cli/_inputs.py`` and ``_outputs.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from personalize_sim.cli import main

from .conftest import cli

pytestmark = pytest.mark.timeout(120)

HEADER = "USER_ID,SESSION_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\n"
#: name -> (file name, content, what the one line says about it)
BAD = {
    "empty": ("events.csv", b"", "the file is empty"),
    "empty parquet": ("events.parquet", b"", "the file is empty"),
    "binary parquet": ("events.parquet", bytes(range(256)) * 4, "not a Parquet file"),
    "binary csv": ("events.csv", bytes(range(256)) * 4, "a binary file, not csv text"),
    "latin-1 csv": ("events.csv", (HEADER + "u\xe9,s,i,View,1700000000\n").encode("latin-1"),
                    "not UTF-8 text (byte 0xe9"),
    "binary jsonl": ("events.jsonl", bytes(range(1, 256)) * 4, "not UTF-8 text"),
    "header only": ("events.csv", HEADER.encode(), "no events (the file has no rows)"),
    "blank lines": ("events.csv", b"\n\n\n", "no header row"),
    "garbage time": ("events.csv", (HEADER + "u,s,i,View,garbage\n").encode(),
                     "TIMESTAMP[0]: got 'garbage'; a time between 1970 and 2100"),
    "huge time": ("events.csv", (HEADER + "u,s,i,View,1e30\n").encode(),
                  "TIMESTAMP[0]: got 1e+30; a time between 1970 and 2100"),
    "infinite time": ("events.csv", (HEADER + "u,s,i,View,inf\n").encode(),
                      "TIMESTAMP[0]: got inf; a time"),
    "json scalar": ("events.json", b"5", "a JSON array of events rows (got a JSON int)"),
    "json not rows": ("events.jsonl", b'{"USER_ID": "u"}\n[1, 2]\n',
                      "line 2: got [1, 2]; one JSON object of events columns per row"),
}  # fmt: skip


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A folder with a valid log and a metrics file, beside which each bad file goes."""
    folder = tmp_path_factory.mktemp("inputs")
    pd.DataFrame({"USER_ID": ["u1", "u1"], "SESSION_ID": ["s", "s"], "ITEM_ID": ["i1", "i2"],
                  "EVENT_TYPE": ["View", "View"], "TIMESTAMP": [1_700_000_000, 1_700_000_060]}
                 ).to_csv(folder / "good.csv", index=False)  # fmt: skip
    metric = {"eventType": "View", "metricName": "views", "expression": "SAMPLECOUNT()"}
    (folder / "metrics.json").write_text(json.dumps({"metrics": [metric]}))
    return folder


def commands(path: Path, good: Path, tmp_path: Path) -> dict[str, list[str]]:
    """Each command that reads ``path``, with everything else it needs valid."""
    return {
        "fit": ["fit", str(path), "--out", str(tmp_path / "fitted.yaml")],
        "realism": ["realism", str(good / "good.csv"), str(path)],
        "attribution": ["attribution", str(path), "--metrics", str(good / "metrics.json"),
                        "--out", str(tmp_path / "report")],
        "stream": ["stream", str(path), "--dry-run", str(tmp_path / "dry.jsonl"), "--no-progress"],
    }  # fmt: skip


def one_line(err: str, command: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"personalize-sim {command}: ") and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("command", ["fit", "realism", "attribution", "stream"])
@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_input_file_is_one_line_naming_it_and_exit_2(capsys, good, tmp_path, case, command):
    name, content, says = BAD[case]
    path = tmp_path / name
    path.write_bytes(content)
    capsys.readouterr()
    assert main(commands(path, good, tmp_path)[command]) == 2
    line = one_line(capsys.readouterr().err, command)
    assert str(path) in line and says in line, line
    assert not (tmp_path / "dry.jsonl").exists() and not (tmp_path / "fitted.yaml").exists()


@pytest.mark.parametrize(
    ("command", "case"),
    [("attribution", "empty"), ("fit", "binary parquet"), ("realism", "garbage time"),
     ("stream", "huge time")],
)  # fmt: skip
def test_the_reported_tracebacks_are_one_line_in_a_real_process(good, tmp_path, command, case):
    name, content, says = BAD[case]
    path = tmp_path / name
    path.write_bytes(content)
    done = cli(*commands(path, good, tmp_path)[command])
    assert done.returncode == 2
    assert says in one_line(done.stderr, command)


def test_a_missing_column_names_the_file_and_what_the_command_needs(capsys, good, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("USER_ID,TIMESTAMP\nu,1700000000\n")
    assert main(commands(path, good, tmp_path)["attribution"]) == 2
    line = one_line(capsys.readouterr().err, "attribution")
    assert f"INPUT {path}: no EVENT_TYPE column (it has USER_ID, TIMESTAMP)" in line


def test_realism_draws_the_figure_of_a_one_event_log(good, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1700000000\n")
    figure = tmp_path / "realism.png"
    done = cli("realism", str(one), str(one), "--figure", str(figure))
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    assert figure.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("argv", "says"),
    [(["realism", "REAL", "REAL", "--figure", "{tmp}/r.xyz"], "--figure {tmp}/r.xyz: use a file "
      "ending in ."),  # matplotlib's own list, which grows with its version
     (["realism", "REAL", "REAL", "--figure", "{tmp}/no/r.png"], "no such folder {tmp}/no/"),
     (["fit", "REAL", "--out", "{tmp}/no/fitted.yaml"], "--out {tmp}/no/fitted.yaml: no such"),
     (["attribution", "REAL", "--metrics", "M", "--out", "{tmp}/file.txt"],
      "--out {tmp}/file.txt is a file: pass a folder")],
)  # fmt: skip
def test_output_paths_are_refused_before_the_input_is_even_read(capsys, tmp_path, argv, says):
    (tmp_path / "file.txt").write_text("x")
    missing = str(tmp_path / "missing.csv")  # reading it would fail: the output fails first
    argv = [a.replace("{tmp}", str(tmp_path)).replace("REAL", missing).replace("M", missing)
            for a in argv]  # fmt: skip
    assert main(argv) == 2
    line = one_line(capsys.readouterr().err, argv[0])
    assert says.replace("{tmp}", str(tmp_path)) in line, line
