"""Columns: Arrow tables and pandas frames of the same batches hold the same events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from personalize_sim import SimulationConfig, simulate
from personalize_sim._schema import EVENT_COLUMNS
from personalize_sim.simulation import iter_simulate
from personalize_sim.simulation._columns import GROUND_TRUTH

from .conftest import START


def test_arrow_chunks_hold_the_same_events():
    config = SimulationConfig.preset("retail").replace(users=400, days=1, start=START)
    frame = simulate(config, rng=8)
    tables = list(iter_simulate(config, rng=8, chunk_events=700, arrow=True))
    assert [t.num_rows for t in tables[:-1]] == [700] * (len(tables) - 1)
    table = pa.concat_tables(tables)
    assert table.column_names == list(frame.columns)
    assert table.schema.field("TIMESTAMP").type == pa.timestamp("us", tz="UTC")
    assert table.column("IMPRESSION").to_pylist() == list(frame["IMPRESSION"])
    for name in ("USER_ID", "SESSION_ID", "RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE",
                 "RECOMMENDER_ARN"):  # fmt: skip
        assert (
            table.column(name).to_pylist()
            == frame[name].astype(object).where(frame[name].notna(), None).tolist()
        )
    assert (
        table.column("position").to_pylist()
        == frame["position"].astype(object).where(frame["position"].notna(), None).tolist()
    )
    assert table.column("arm").to_pylist() == frame["arm"].astype(str).tolist()
    np.testing.assert_array_equal(table.column("EVENT_VALUE").to_numpy(), frame["EVENT_VALUE"])


def test_columns_are_the_contract_then_the_issuer_properties_and_the_ground_truth(frames):
    frame = frames["retail"]
    properties = [p.name for p in SimulationConfig.preset("retail").properties]
    contract = [c for c in EVENT_COLUMNS if c != "EVENT_ID"]
    assert list(frame.columns) == [*contract, "RECOMMENDER_ARN", *properties, *GROUND_TRUTH]
    assert str(frame["persona"].dtype) == "category" and str(frame["arm"].dtype) == "category"
    assert str(frame["RECOMMENDER_ARN"].dtype) == "category"
    assert str(frame["position"].dtype) == "Int8"
    # ground truth agrees with itself: organic events have no position, and sent user
    # ids are the true ones
    assert frame["organic"].equals(frame["position"].isna())
    known = frame["USER_ID"].notna()
    assert (frame.loc[known, "USER_ID"] == frame.loc[known, "true_user_id"]).all()
    assert frame["true_user_id"].notna().all()


@pytest.mark.parametrize(("name", "digits"), [("retail", 3), ("video-on-demand", 2)])
def test_recommendation_ids_name_the_session_and_the_step_of_the_click(frames, name, digits):
    # the step has as many digits as max_events - 1 needs (retail 200, video 100)
    frame = frames[name]
    ordered = frame.sort_values(["SESSION_ID", "TIMESTAMP"], kind="stable")
    step = ordered.groupby("SESSION_ID").cumcount()
    clicked = ordered[ordered["position"].notna() & ordered["IMPRESSION"].notna()]
    assert len(clicked) > 50
    expected = (
        "rec-" + clicked["SESSION_ID"] + "-" + step[clicked.index].map(f"{{:0{digits}d}}".format)
    )
    assert (clicked["RECOMMENDATION_ID"] == expected).all()
    assert frame["SESSION_ID"].str.fullmatch(r"S\d{10}").all()
