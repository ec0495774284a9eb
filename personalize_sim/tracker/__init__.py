"""④ The local tracker emulator: a real endpoint of every personalize-events operation
(PutEvents, PutItems, PutUsers, PutActions, PutActionInteractions) for unmodified boto3
clients.

``_config`` (:class:`TrackerConfig`, every option once), ``_emulator`` (pure
request → response; a restart's fresh ids and relearnt models), ``_bodies`` (a body's
JSON, strings and refusals), ``_rows`` (what a valid request stores), ``_validator``
(request bodies against botocore's model),
``_messages`` (validation errors in AWS's words, for any operation of a model),
``_runtime`` (the runtime API: GetRecommendations, GetPersonalizedRanking from the online
models of :mod:`personalize_sim.online`, GetActionRecommendations from ``_action_model``,
issued ids remembered), ``_filter_language`` / ``_filter_index`` / ``_filters`` (filter
expressions: parsed when declared, evaluated on indexes kept as data is stored), ``_slates``
(promotions, item metadata), ``_binding`` (where it may listen), ``_faults`` (token bucket,
fault plan), ``_store`` (SQLite), ``_readers`` (a store read back as frames), ``_sigv4``
(signature check), ``_server`` (the ASGI app and the server; with ``_uvicorn``, the seam
with uvicorn's private classes, the only modules opening sockets), ``_process`` (the
emulator in a process of its own, ``python -m personalize_sim.tracker``), ``_local``
(:class:`LocalTracker`). ``personalize-sim serve`` runs
:func:`personalize_sim.tracker.internal.serve`.
"""

from __future__ import annotations

from .._public import expose
from ._config import TrackerConfig
from ._local import LocalTracker, TrackerState

__all__ = ["LocalTracker", "TrackerConfig", "TrackerState"]

expose(__name__, globals(), __all__)
