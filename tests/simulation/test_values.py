"""Values and properties: EVENT_VALUE by event type, property columns by scope."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from personalize_sim import ConfigError
from personalize_sim.simulation import PropertyConfig
from personalize_sim.simulation._values import event_properties, session_properties


def test_event_values_by_type(frames):
    retail = frames["retail"]
    purchases = retail[retail["EVENT_TYPE"] == "Purchase"]["EVENT_VALUE"]
    assert len(purchases) and (purchases > 0).all()
    assert retail[retail["EVENT_TYPE"] != "Purchase"]["EVENT_VALUE"].isna().all()
    vod = frames["video-on-demand"]
    ratings = vod[vod["EVENT_TYPE"] == "Rate"]["EVENT_VALUE"]
    assert set(ratings.unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0} and ratings.nunique() >= 4
    watched = vod[vod["EVENT_TYPE"] == "Watch"]["EVENT_VALUE"]
    assert (watched >= 0).all() and watched.median() > 600
    # follow-on events act on the item the session last picked
    ordered = retail.sort_values(["SESSION_ID", "TIMESTAMP"])
    previous = ordered.groupby("SESSION_ID")["ITEM_ID"].shift()
    follow = ordered["EVENT_TYPE"] != "View"
    assert (ordered.loc[follow, "ITEM_ID"] == previous[follow]).all()


def test_session_properties_repeat_and_event_properties_vary(rng):
    properties = (
        PropertyConfig(
            name="DEVICE", values=("web", "ios"), probabilities=(0.7, 0.3), scope="session"
        ),
        PropertyConfig(name="DISCOUNT", values=("Yes", "No"), probabilities=(0.2, 0.8)),
    )
    per_session = session_properties(properties, 2_000, rng)
    assert per_session[1] is None and len(per_session[0]) == 2_000
    session = np.repeat(np.arange(2_000), 5)
    codes = event_properties(properties, per_session, session, rng)
    assert codes.shape == (10_000, 2) and codes.dtype == np.int8
    by_session = pd.DataFrame(codes, columns=["device", "discount"]).groupby(session)
    assert by_session["device"].nunique().max() == 1
    assert by_session["discount"].nunique().max() == 2
    # shares within 99% intervals of the configured probabilities
    assert abs((per_session[0] == 0).mean() - 0.7) < 2.6 * np.sqrt(0.7 * 0.3 / 2_000)
    assert abs((codes[:, 1] == 0).mean() - 0.2) < 2.6 * np.sqrt(0.2 * 0.8 / 10_000)


def test_property_names_are_upper_snake_and_not_reserved():
    with pytest.raises(ConfigError) as error:
        PropertyConfig(name="device", values=("a",), probabilities=(1.0,))
    assert "UPPER_SNAKE" in error.value.allowed
    with pytest.raises(ConfigError):
        PropertyConfig(name="SESSION_ID", values=("a",), probabilities=(1.0,))
    with pytest.raises(ConfigError) as error:
        PropertyConfig(name="DEVICE", values=("a", "b"), probabilities=(0.5, 0.6))
    assert error.value.field == "probabilities"
    with pytest.raises(ConfigError) as error:
        PropertyConfig(name="DEVICE", values=("a",), probabilities=(1.0,), scope="user")
    assert (error.value.field, error.value.value) == ("scope", "user")
