"""The true causal effect of a recommender: events that exist only because of a click.

An arm's ``lift`` is the probability that a click on its slate adds one event of
``lift_event_type`` on the clicked item, one second after the click, carrying the
click's RECOMMENDATION_ID. Nothing else changes, so in a common-random-numbers run
with the recommender switched off these events are exactly the ones that vanish:
the incremental count is Binomial(clicks, lift) and the ground-truth column
``incremental`` marks them.

>>> lifts = np.array([0.0, 0.5])
>>> chosen(lifts, arm=np.array([1, 0, 1]), u=np.array([0.4, 0.1, 0.6]))
array([ True, False, False])
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._values import event_values

if TYPE_CHECKING:
    from ._catalog import Catalog
    from ._config import SimulationConfig

__all__ = ["LIFT_DELAY_US", "append_lift", "chosen"]

#: the added event follows its click by one second (whole seconds survive botocore < 1.44)
LIFT_DELAY_US = 1_000_000


def chosen(lifts: np.ndarray, *, arm: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Which clicks (of arms ``arm``, with uniforms ``u``) add an event."""
    return u < lifts[arm]


def append_lift(
    config: SimulationConfig,
    columns: dict[str, np.ndarray],
    *,
    clicked: np.ndarray,
    u: np.ndarray,
    arm: np.ndarray,
    persona: np.ndarray,
    catalog: Catalog,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """``columns`` (per event) with the lift events of the clicks ``clicked`` appended.

    ``u`` holds one uniform per click, ``arm`` and ``persona`` are per event; every
    column gets an ``incremental`` flag (True only on the appended rows).
    """
    n = len(columns["ts"])
    columns["incremental"] = np.zeros(n, dtype=bool)
    lifts = np.array([a.lift for a in config.exposure.arms])
    if not lifts.any() or len(clicked) == 0:
        return columns
    source = clicked[chosen(lifts, arm=arm[clicked], u=u)]
    if len(source) == 0:
        return columns
    names = config.funnel.names
    etype = np.array(
        [names.index(config.exposure.arms[a].lift_event_type) for a in arm[source]], dtype=np.int8
    )
    added = {name: values[source] for name, values in columns.items()}
    added["ts"] = added["ts"] + LIFT_DELAY_US
    added["etype"] = etype
    added["value"] = event_values(
        config.funnel, etype, added["item"], persona[source], catalog, rng
    )
    added["would_have"] = np.zeros(len(source), dtype=bool)
    added["slate_row"] = np.full(len(source), -1, dtype=np.int32)
    added["incremental"] = np.ones(len(source), dtype=bool)
    return {name: np.concatenate([columns[name], added[name]]) for name in columns}
