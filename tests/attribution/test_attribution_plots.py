"""The attribution plots: a Figure, drawn on the given ax, showing what the frames hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from personalize_sim import ConfigError, plots
from personalize_sim.attribution import scenario


@pytest.fixture(scope="module")
def result():
    return scenario("over-crediting").run(rng=2, users=800, days=1)


def test_windows_draws_one_line_per_source(result):
    fig = plots.attribution_windows(result.report.table, metric="views")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    sources = result.report.table.query("METRIC_NAME == 'views'")["SOURCE"].nunique()
    assert len(ax.get_lines()) == sources
    with pytest.raises(ConfigError, match="metric"):
        plots.attribution_windows(result.report.table, metric="nope")


def test_windows_add_up_to_each_sources_total_over_time(result):
    """The cumulative lines end at each source's total, never fall, and reach every window
    (a window with nothing credited adds nothing: it is not skipped by a straight line)."""
    table = result.report.table.query("METRIC_NAME == 'views'")
    totals = table.groupby("SOURCE")["VALUE"].sum().sort_values(ascending=False)
    (ax,) = plots.attribution_windows(table).axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"{source} ({total:,.4g})" for source, total in totals.items()]
    windows = pd.date_range(table["WINDOW"].min(), table["WINDOW"].max(), freq="15min")
    for line, total in zip(ax.get_lines(), totals, strict=True):
        y = line.get_ydata()
        assert y[0] == 0 and y[-1] == pytest.approx(total)
        assert (np.diff(y) >= 0).all()
        assert len(y) == len(windows) + 1


@pytest.mark.parametrize(("days", "bars_per_source"), [(1, 24), (3, 3)])
def test_windows_per_hour_or_per_day_by_the_span(days, bars_per_source):
    frame = scenario("over-crediting").run(rng=2, users=300, days=days).report.table
    table = frame.query("METRIC_NAME == 'views'")
    (ax,) = plots.attribution_windows(table, cumulative=False).axes
    sources = table["SOURCE"].nunique()
    assert len(ax.patches) <= sources * bars_per_source
    assert len(ax.patches) >= sources * (bars_per_source - 1)  # the last hour may be empty
    assert sum(p.get_height() for p in ax.patches) == pytest.approx(table["VALUE"].sum())
    assert ax.get_title() == f"views per {'hour' if days == 1 else 'day'}, by source"


def test_totals_and_cloudwatch_on_a_given_ax(result):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.attribution_totals(result.report.table, ax=ax) is fig
    bars = [p.get_width() for p in ax.patches]
    assert sorted(bars) == sorted(result.report.totals()["VALUE"].tolist())
    cw = plots.attribution_totals(result.report.cloudwatch())
    labels = [t.get_text() for t in cw.axes[0].get_yticklabels()]
    assert "RECOMMENDED-FOR-YOU" in labels


def test_counts_stack_to_the_events_of_each_type(result):
    fig = plots.attribution_counts(result.report.counts)
    widths = sum(p.get_width() for p in fig.axes[0].patches)
    assert widths == result.report.counts["events"].sum()


def test_attributed_vs_incremental_bars(result):
    effects = result.effects.table
    fig = plots.attributed_vs_incremental(effects)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights == [*effects["ATTRIBUTED"], *effects["INCREMENTAL"]]


def test_each_attribution_figure_shows_as_a_picture(result):
    figures = [
        plots.attribution_windows(result.report.table, metric="views"),
        plots.attribution_totals(result.report.table),
        plots.attribution_counts(result.report.counts),
        plots.attributed_vs_incremental(result.effects.table),
    ]
    for fig in figures:
        assert fig._repr_png_().startswith(b"\x89PNG")  # what IPython shows in a notebook
