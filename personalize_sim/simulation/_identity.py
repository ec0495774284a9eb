"""Who issued each recommendation, and what the items are: what attribution needs.

Every RECOMMENDATION_ID the simulator emits comes from one arm's recommender, which
has a name (the arm's) and an ARN-like id (``ArmConfig.arn``); Personalize credits
events that carry the id to that ARN, and the simulated frame says which in its
``RECOMMENDER_ARN`` column. :func:`catalog_items` is the items dataset (for
``SUM(Items.PRICE)``).

>>> config = SimulationConfig.preset("retail")
>>> recommender_table(config)[["RECOMMENDER", "RECOMMENDER_ARN"]].iloc[0].tolist()
['popular', 'arn:aws:personalize:us-east-1:000000000000:recommender/popular']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._checks import instance
from ._catalog import build_catalog
from ._config import SimulationConfig
from ._engine import CATALOG, _entropy, stream

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["catalog_items", "recommender_table"]


def recommender_table(config: SimulationConfig) -> pd.DataFrame:
    """One row per arm: ``arm``, ``RECOMMENDER`` (name), ``RECOMMENDER_ARN``,
    ``EVENT_ATTRIBUTION_SOURCE`` (the explicit source its events carry, or None)."""
    import pandas as pd

    instance(config, "config", SimulationConfig, "a SimulationConfig")
    return pd.DataFrame(
        {
            "arm": [a.name for a in config.exposure.arms],
            "RECOMMENDER": [a.name for a in config.exposure.arms],
            "RECOMMENDER_ARN": [a.arn for a in config.exposure.arms],
            "EVENT_ATTRIBUTION_SOURCE": [a.attribution_source for a in config.exposure.arms],
        }
    )


def catalog_items(
    config: SimulationConfig | str,
    *,
    rng: np.random.Generator | int | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """The items dataset of a simulation: ``ITEM_ID, CATEGORY, PRICE, DURATION,
    RELEASE_DAY`` (the same catalog :func:`simulate` draws with this config and seed).

    >>> catalog_items("retail", rng=1).head(3)
      ITEM_ID    CATEGORY  PRICE  DURATION  RELEASE_DAY
    0      i0    footwear  56.54       0.0            0
    1      i1  housewares  17.72       0.0            5
    2      i2   homedecor  53.81       0.0            0
    """
    import pandas as pd

    if isinstance(config, str):
        config = SimulationConfig.preset(config)
    instance(config, "config", SimulationConfig, "a SimulationConfig or a preset name")
    config = config.replace(**overrides) if overrides else config
    entropy = _entropy(config.rng if rng is None else rng)
    catalog = build_catalog(
        config.catalog, config.population, math.ceil(config.time.days), stream(entropy, CATALOG)
    )
    names = np.array([c.name for c in config.catalog.categories], dtype=object)
    return pd.DataFrame(
        {
            "ITEM_ID": [f"i{i}" for i in range(catalog.size)],
            "CATEGORY": names[catalog.category],
            "PRICE": catalog.price,
            "DURATION": catalog.duration,
            "RELEASE_DAY": catalog.release_day,
        }
    )
