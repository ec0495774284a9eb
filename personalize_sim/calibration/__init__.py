"""Fit the simulator to a real log, and show how close a synthetic log comes to it.

:func:`fit` estimates a :class:`~personalize_sim.simulation.SimulationConfig` from an
interactions log in the dataset layout (``USER_ID``, ``ITEM_ID``, ``TIMESTAMP``…);
:func:`realism_report` compares a real and a synthetic log distribution by distribution
(:func:`personalize_sim.plots.realism` draws it).

How it is laid out::

    _interactions          a log read into arrays and split into sessions
    _fit           fit: the config estimated from a log (with the three below)
    _fit_time      arrivals: sessions per user, idle times, gaps, hourly and weekly profiles
    _fit_catalog   popularity curve (unseen items, without count noise), drift, new items
    _fit_users     users as people: session lengths by bucket, hour habit, repeat odds,
                   popularity for picks without replacement, values by user and item
    _per_user      what a log says per user (events, items, repeats, hours) and per item
    _realism       realism_report, RealismReport: distances real vs synthetic
    _distances     KS, total variation (numpy)
"""

from __future__ import annotations

from .._public import expose
from ._fit import fit
from ._realism import RealismReport, realism_report

__all__ = ["RealismReport", "fit", "realism_report"]

expose(__name__, globals(), __all__)
