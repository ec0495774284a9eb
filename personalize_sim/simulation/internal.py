"""Simulation plumbing that the project's other layers share; not public API.

``calibration`` estimates the engine's own tables (arrival slots, percentile tables,
profiles in a time zone); ``attribution`` maps arms to ARNs; ``scale.dask`` runs a
simulation partition by partition. None of this is in a public ``__all__``, none of it
is promised stable, and the import contracts in ``pyproject.toml`` name who may import
it (docs/architecture.md).
"""

from __future__ import annotations

from ._arrivals import DAY_US, SLOT_US
from ._identity import recommender_table
from ._item_plan import seen_before
from ._partitions import (
    PartOutput,
    PartPlan,
    assemble_part,
    empty_part,
    generate_part,
    plan_parts,
)
from ._quantiles import draw, quantile_table
from ._traffic import ProfileClock
from ._users import alike_uniforms, normal_scores

__all__ = [  # for the layers named above, never for users
    "DAY_US",
    "SLOT_US",
    "PartOutput",
    "PartPlan",
    "ProfileClock",
    "alike_uniforms",
    "assemble_part",
    "draw",
    "empty_part",
    "generate_part",
    "normal_scores",
    "plan_parts",
    "quantile_table",
    "recommender_table",
    "seen_before",
]
