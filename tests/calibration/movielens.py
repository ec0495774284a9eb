"""The real log: MovieLens 100K (943 users rating 1,682 films, Sept 1997 – April 1998), as
RecBole ships it inside its wheel (``recbole/dataset_example/ml-100k/ml-100k.inter``).

Fetched the way a user would: ``pip download --no-deps recbole==1.2.1`` (one 2 MB wheel from
the package registry; RecBole is never installed or imported: it needs torch), read as a zip,
and kept in pytest's cache folder (``.pytest_cache/d/movielens``), so later runs read it offline.
A test skips, saying why, only when the registry cannot be reached.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

WHEEL = "recbole==1.2.1"
MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
#: the cache of the suite (the folder of pyproject.toml), whichever test asks first
CACHE = Path(__file__).resolve().parents[2] / ".pytest_cache" / "d" / "movielens"


def movielens_wheel(cache: Path = CACHE) -> Path:
    """The wheel in ``cache``, downloaded once (atomically: parallel workers may race)."""
    found = sorted(cache.glob("recbole-*.whl"))
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        command = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--disable-pip-version-check", "-q", "-d", scratch, WHEEL]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.skip(f"the real log is absent: `pip download {WHEEL}` took over 120 s")
        wheels = sorted(Path(scratch).glob("recbole-*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
            pytest.skip(f"the real log is absent: the registry did not give {WHEEL} ({last})")
        target = cache / wheels[0].name
        os.replace(wheels[0], target)
    return target


def movielens() -> pd.DataFrame:
    """The ratings as an interactions log (EVENT_TYPE Rating, EVENT_VALUE the stars)."""
    with zipfile.ZipFile(movielens_wheel()) as wheel:
        text = wheel.read(MEMBER)
    frame = pd.read_csv(io.BytesIO(text), sep="\t")
    frame.columns = ["USER_ID", "ITEM_ID", "EVENT_VALUE", "TIMESTAMP"]
    return frame.assign(EVENT_TYPE="Rating")
