"""The closed-loop figure draws exactly the metrics of a run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim import plots
from personalize_sim.closed_loop import LoopConfig, OnlineArms, loop_metrics, run_loop
from personalize_sim.errors import ConfigError


def test_each_panel_draws_each_arms_metric_by_day() -> None:
    config = LoopConfig(users=60, items=30, days=3, new_items_per_day=2)
    result = run_loop(config, OnlineArms({"pop": "popularity", "dice": "random"}, rng=0), rng=0)
    metrics = loop_metrics(result)
    fig = plots.loop(metrics)
    assert fig._repr_png_()[:4] == b"\x89PNG"  # shows as a picture in a notebook
    gini_panel = fig.axes[0]
    lines = {line.get_label(): line for line in gini_panel.get_lines()}
    assert set(lines) == {"pop", "dice"}
    expected = metrics[metrics["ARM"] == "pop"]["GINI"].to_numpy()
    np.testing.assert_allclose(lines["pop"].get_ydata(), expected)


def test_a_frame_without_the_metrics_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="GINI"):
        plots.loop(pd.DataFrame({"DAY": [0], "ARM": ["a"]}))
