"""Realism plots: a real log against synthetic traffic (``simulation.realism_report``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._checks import check
from ..errors import ConfigTypeError
from ._figures import _axes, _figure_of, figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

__all__ = ["realism", "realism_row"]


def realism(report: Any, *, fig: Figure | SubFigure | None = None) -> Figure:
    """One panel per row of a realism report, real against synthetic, titled with the
    distance and whether it passed: ECDFs for samples (per event, per user, per item),
    bars for profiles, event types and single numbers (repeat share, correlation), the
    rank-frequency curve for popularity, and a real-vs-synthetic scatter of the funnel's
    transition probabilities."""
    names = list(_samples_of(report))
    columns = 3
    rows = max(1, -(-len(names) // columns))
    fig = fig if fig is not None else figure((12, 3.2 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, name in zip(axes, names, strict=False):
        realism_row(report, name, ax=ax)
    for ax in axes[len(names) :]:
        ax.remove()  # not hidden: a hidden axes still holds its tick labels
    return _figure_of(axes[0])


def realism_row(report: Any, name: str, *, ax: Axes | None = None) -> Figure:
    """The panel of one row (``distribution``) of a realism report."""
    import numpy as np

    samples = _samples_of(report)
    check(name in samples, "name", name, f"a row of the report: {', '.join(samples)}")
    sample = samples[name]
    ax = _axes(ax)
    row = report.table.set_index("distribution").loc[name]
    if sample.kind == "ks":
        for values, label in ((sample.real, "real"), (sample.synthetic, "synthetic")):
            x = np.sort(np.asarray(values, dtype=float))
            ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", label=label)
        drawn = [np.asarray(v, dtype=float) for v in (sample.real, sample.synthetic) if len(v)]
        low = min((v.min() for v in drawn), default=0.0)  # a log too short has no sample
        if low > 0 and max(v.max() for v in drawn) / low > 100:
            ax.set_xscale("log")
        ax.set_ylabel("share ≤ x")
    elif sample.kind == "rel":
        for shares, label in ((sample.real, "real"), (sample.synthetic, "synthetic")):
            ranks = np.arange(1, len(shares) + 1)
            ax.loglog(ranks[shares > 0], shares[shares > 0], label=label)
        ax.set_xlabel("item rank")
        ax.set_ylabel("share of events")
    elif sample.kind == "abs":
        pair = [float(sample.real[0]), float(sample.synthetic[0])]
        ax.bar(["real", "synthetic"], pair, color=["C0", "C1"])
        ax.axhline(0.0, color="grey", linewidth=0.8)
        for place, value in enumerate(pair):
            ax.annotate(f"{value:.3f}", (place, value), ha="center", va="bottom", fontsize=8)
        ax.set_ylabel(name.replace("_", " "))
    elif sample.kind == "worst":
        rows_a, rows_b = sample.real.sum(axis=1), sample.synthetic.sum(axis=1)
        gap = np.abs(
            sample.real / np.maximum(rows_a, 1)[:, None]
            - sample.synthetic / np.maximum(rows_b, 1)[:, None]
        ).max(axis=1)
        states = list(sample.labels[: len(gap)])
        # states left too few times to count in the row: drawn, in grey
        counted = (rows_a >= sample.min_count) & (rows_b >= sample.min_count)
        ax.bar(states, gap, color=np.where(counted, "C1", "lightgrey"))
        ax.axhline(float(row["tolerance"]), color="grey", linewidth=0.8, linestyle="--")
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        ax.set_ylabel("largest difference, from this type")
    elif name == "transitions":
        real = sample.real / np.maximum(sample.real.sum(axis=1, keepdims=True), 1)
        syn = sample.synthetic / np.maximum(sample.synthetic.sum(axis=1, keepdims=True), 1)
        ax.scatter(real.ravel(), syn.ravel(), s=12)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
        ax.set_xlabel("real probability")
        ax.set_ylabel("synthetic probability")
    else:
        x = np.arange(len(sample.real))
        for offset, values, label in (
            (-0.2, sample.real, "real"),
            (0.2, sample.synthetic, "synthetic"),
        ):
            ax.bar(x + offset, values / max(values.sum(), 1), width=0.4, label=label)
        ax.set_xticks(x, sample.labels, fontsize=7)
        ax.set_ylabel("share")
    verdict = "pass" if row["passed"] else "FAIL"
    ax.set_title(
        f"{name}: {row['metric']} {row['distance']:.3f} ({verdict}, ≤ {row['tolerance']:g})",
        fontsize=9,
    )
    if sample.kind in ("ks", "tv", "rel") and name != "transitions":
        ax.legend(fontsize=7)
    return _figure_of(ax)


def _samples_of(report: Any) -> Any:
    samples = getattr(report, "samples", None)
    if samples is None or not hasattr(report, "table"):
        raise ConfigTypeError("report", report, "a RealismReport (simulation.realism_report)")
    return samples
