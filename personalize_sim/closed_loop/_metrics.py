"""What the closed loop shows, per day and arm: concentration, coverage, clicks, new items.

>>> import pandas as pd
>>> gini(pd.Series([1, 1, 1, 1]).to_numpy()), gini(pd.Series([0, 0, 0, 4]).to_numpy())
(0.0, 0.75)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from ._driver import LoopResult

__all__ = ["gini", "loop_metrics"]


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts: 0 all equal, (n-1)/n all on one item."""
    values = np.sort(np.asarray(counts, dtype=float))
    n, total = len(values), values.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * values).sum()) / (n * total) - (n + 1) / n)


def loop_metrics(result: LoopResult) -> pd.DataFrame:
    """One row per (DAY, ARM): ``SLATES``, ``FAILED``, ``CTR`` (slates clicked / slates
    answered), ``GINI`` of impressions over the items on sale that day (0 = even, near 1 =
    all on one item), ``COVERAGE`` (share of items on sale shown at least once that day)
    ``NEW_ITEMS_SHOWN`` (share of the items that arrived after day 0, by that day,
    ever shown by the arm so far; NaN while none has arrived) and ``REPEAT_EXPOSURE``
    (share of the day's impressions of an item the arm had shown that user before)."""
    import pandas as pd

    slates, items = result.slates, result.items
    arrived = dict(zip(items["ITEM_ID"], items["ARRIVED_DAY"], strict=True))
    rows = []
    for arm in sorted(slates["ARM"].unique()):
        ever: set[str] = set()
        seen: dict[str, set[str]] = {}  # user -> items the arm showed them
        of_arm = slates[slates["ARM"] == arm]
        for day in sorted(of_arm["DAY"].unique()):
            today = of_arm[of_arm["DAY"] == day]
            shown = [item for slate in today["ITEMS"] for item in slate]
            ever.update(shown)
            on_sale = items.loc[items["ARRIVED_DAY"] <= day, "ITEM_ID"]
            counts = pd.Series(shown, dtype=object).value_counts()
            impressions = counts.reindex(on_sale, fill_value=0).to_numpy()
            new = [i for i in on_sale if arrived[i] > 0]
            answered = today[~today["FAILED"]]
            repeats = 0
            for user, slate in zip(today["USER_ID"], today["ITEMS"], strict=True):
                before = seen.setdefault(user, set())
                repeats += sum(item in before for item in slate)
                before.update(slate)
            rows.append(
                {
                    "DAY": int(day),
                    "ARM": arm,
                    "SLATES": len(today),
                    "FAILED": int(today["FAILED"].sum()),
                    "CTR": float(answered["CLICKED"].mean()) if len(answered) else np.nan,
                    "GINI": gini(impressions),
                    "COVERAGE": float((impressions > 0).mean()) if len(on_sale) else np.nan,
                    "NEW_ITEMS_SHOWN": (
                        float(np.mean([i in ever for i in new])) if new else np.nan
                    ),
                    "REPEAT_EXPOSURE": repeats / len(shown) if shown else np.nan,
                }
            )
    return pd.DataFrame(rows)
