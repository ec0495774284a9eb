"""The problem report: rows in order, column-wide problems first, check order kept."""

from __future__ import annotations

import numpy as np
import pandas as pd

from personalize_sim import PayloadError
from personalize_sim.payloads._problems import PROBLEM_COLUMNS, ProblemReport, one_row, scatter


def test_an_empty_report_has_the_columns_and_no_rows():
    report = ProblemReport(labels=pd.Index([10, 11]))
    frame = report.frame()
    assert tuple(frame.columns) == PROBLEM_COLUMNS
    assert frame.empty
    assert report.bad_positions().tolist() == []
    assert not report.column_level()


def test_problems_are_ordered_by_row_then_by_check_and_carry_labels():
    report = ProblemReport(labels=pd.Index(["a", "b", "c"]))
    report.add(np.array([False, True, True]), "ITEM_ID", "too_long", ["x", "yy", "zz"], "<= 1")
    report.add(np.array([True, True, False]), "EVENT_TYPE", "empty", pd.Series(["", "", "v"]))
    report.add(None, "SESSION_ID", "missing_column", None, "required")
    rows = report.frame().values.tolist()
    assert rows == [
        [None, "SESSION_ID", "missing_column", None, "required"],
        ["a", "EVENT_TYPE", "empty", "", None],
        ["b", "ITEM_ID", "too_long", "yy", "<= 1"],
        ["b", "EVENT_TYPE", "empty", "", None],
        ["c", "ITEM_ID", "too_long", "zz", "<= 1"],
    ]
    assert report.bad_positions().tolist() == [-1, 0, 1, 2]
    assert report.column_level()


def test_a_scalar_value_is_repeated_and_an_empty_mask_adds_nothing():
    report = ProblemReport()
    report.add(np.zeros(3, dtype=bool), "X", "never", "v")
    report.add(np.array([True, False, True]), "X", "bad_key", "KEY")
    assert report.frame()[["row", "value"]].values.tolist() == [[0, "KEY"], [2, "KEY"]]


def test_mask_helpers():
    assert one_row(3, 1).tolist() == [False, True, False]
    mask = np.array([True, False, True, True])
    assert scatter(mask, np.array([False, True, True])).tolist() == [False, False, True, True]


def test_payload_error_carries_the_whole_report():
    report = ProblemReport()
    report.add(np.array([True]), "ITEM_ID", "empty", [""], "length >= 1")
    error = PayloadError(report.frame())
    assert isinstance(error, ValueError)
    assert "row 0, ITEM_ID: empty" in str(error)
    assert error.problems.equals(report.frame())
