"""The real log: MovieLens 100K (943 users rating 1,682 films, Sept 1997 – April 1998), as
RecBole ships it inside its wheel (``recbole/dataset_example/ml-100k/ml-100k.inter``).

Read straight from the installed files: RecBole itself is never imported (it needs
torch), so ``pip install --no-deps recbole==1.2.1`` is enough (CI installs only what
pyproject.toml names, so there the tests that need it skip and say why).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

#: how to get the log, for the skip message
INSTALL = "pip install --no-deps 'recbole==1.2.1' (it ships MovieLens-100K; torch is not needed)"


def movielens_path() -> Path | None:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)))
    path = path / "dataset_example" / "ml-100k" / "ml-100k.inter"
    return path if path.is_file() else None


def movielens() -> pd.DataFrame:
    """The ratings as an interactions log (EVENT_TYPE Rating, EVENT_VALUE the stars),
    or a skipped test when the package is absent."""
    path = movielens_path()
    if path is None:
        pytest.skip(f"the real log is absent: {INSTALL}")
    frame = pd.read_csv(path, sep="\t")
    frame.columns = ["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"]
    return frame.assign(EVENT_TYPE="Rating")
