"""Locust for distributed load: users that send our PutEvents requests, shares, shapes.

``pip install 'personalize-sim[locust]'``, then in a locustfile (``examples/locustfile.py``)::

    from personalize_sim.scale.locust import PutEventsUser
    class Shopper(PutEventsUser):
        pass

and run ``locust -f locustfile.py --headless --processes 2 --host <endpoint>
--tracking-id <id> --events <parquet> --ledger ledger.json -u 20 -r 20 -t 1m``.

* **Requests** are built by the payload layer (``to_put_events``), serialised as the wire
  format (:class:`~personalize_sim.streaming.Prepared`) and signed by
  :class:`~personalize_sim.streaming.FastTarget` (SigV4 from botocore, signing name
  ``personalize``), then sent by Locust's own ``FastHttpUser`` client (geventhttpclient:
  gevent, not asyncio), which reports every attempt through ``events.request`` (name,
  response time, length, exception), so Locust's UI, CSV and percentiles count them all.
* **Sources** (:class:`FrameSource`, :class:`ParquetSource`, :class:`SimulationSource`): each
  worker process takes its own contiguous share (by its place among the workers the master
  lists at the test's start), so no event is sent by two workers.
* **Ledger**: workers report their counts to the master a few times a second; at the end the
  master writes one :class:`~personalize_sim.scale.Ledger` (``--ledger``): delivered,
  dead-lettered (bad input, or retries exhausted) and unsent, per worker. A worker that
  dies is named in ``failures`` and its unsent events (with those in flight) are counted.
  When every share is sent, the test ends (as ``-t`` would), with every count in.
* **Shapes**: :class:`ScheduleShape` runs our schedules (ramp, steps, replay…) as a
  ``LoadTestShape``: users = target rate / each user's ``constant_throughput``.

Importing this module imports Locust, which lets gevent patch the process (sockets,
threads): import it only in a locustfile, never in a notebook or a test process.
"""

from __future__ import annotations

try:
    import gevent  # noqa: F401
    import locust  # noqa: F401
except ImportError as e:  # pragma: no cover - the extra is part of the test install
    raise ImportError(
        "personalize_sim.scale.locust needs Locust: pip install 'personalize-sim[locust]'"
    ) from e

from .._sources import FrameSource, ParquetSource, SimulationSource, Source
from ._shape import ScheduleShape
from ._user import PutEventsUser

__all__ = [
    "FrameSource",
    "ParquetSource",
    "PutEventsUser",
    "ScheduleShape",
    "SimulationSource",
    "Source",
]
