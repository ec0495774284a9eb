"""Scale-out beyond one process and one machine, on engines users already run.

Optional extras, never imported by the core (an import-linter contract says so)::

    scale.locust   Locust users that send PutEvents through the fast transport's signing,
                   sources shared between workers, our schedules as a ``LoadTestShape``
                   (``pip install 'personalize-sim[locust]'``; importing it lets gevent
                   patch the process, so import it only in a locustfile)
    scale.dask     a simulation partitioned by blocks of time on Dask (Parquet out, the
                   same events as ``simulate``), and a Dask DataFrame streamed by many
                   workers with one merged ledger (``pip install 'personalize-sim[dask]'``)
    _shares        the pure arithmetic both share: who sends what, merged ledgers
    _sources       the Locust sources (frame, Parquet, live simulation), split by worker

Importing this package imports neither Locust nor Dask.
"""

from __future__ import annotations

from .._public import expose
from ._shares import Ledger

__all__ = ["Ledger"]

expose(__name__, globals(), __all__)
