"""③ Rate-controlled streaming: schedules, pacing, retries, targets, delivery log, handle.

:func:`open_stream` builds a :class:`StreamHandle` (not yet started) from a source, a rate
schedule and a target; :func:`personalize_sim.stream` starts it (and can show a dashboard).
Every attempt becomes an :class:`Attempt` record; :class:`DeliverySummary` sums them up.

How it is laid out (private modules; the names a user needs are exported here, the
plumbing other layers share in :mod:`personalize_sim.streaming.internal`)::

    _open          open_stream: check the arguments, wire the parts below together
    _options       Pacing, Conversion: the rarely tuned knobs
    _sources       a frame, a list or an iterable → requests (frames converted by payloads)
    _wire          Prepared: a request's deterministic id, event count and JSON body
    _schedules     constant, ramp, steps, poisson, replay, rate_function: when each is due
    _pacer         the open-model arithmetic: due times, slips, missed sends (pure)
    _retry         RetryPolicy: classification, full-jitter backoff until a deadline (pure)
    _silence       when to give up on an endpoint that has never answered (pure)
    _adaptive      AdaptiveRate: a client-side rate that backs off on throttling (pure)
    _transports/   one module per transport: boto3, fast (SigV4 + aiohttp), crt (awscrt),
                   JSONL, memory; the only socket users
    _sender        the asyncio driver: performs the I/O the pacer and the policy ask for
    _engine        one sender on the handle's thread;  _workers: N processes share the rate
    _checkpoint    delivered request ids on disk (with the input's fingerprint), for a resume
    _records       Attempt, Outcome, DeadLetter: what the sender emits
    _log           DeliveryLog: the records, the running counts, HDR latencies
    _spill         attempt records in batches in a temporary Arrow file (bounded memory)
    _summary       DeliverySummary, StreamState, Limit (what limited the rate), advice
    _handle        StreamHandle: start, run, pause, resume, stop, set_rate, listeners, wait
"""

from __future__ import annotations

from .._public import expose
from ._handle import StreamHandle
from ._open import open_stream
from ._options import Conversion, Pacing
from ._records import Attempt, Outcome
from ._retry import RetryPolicy
from ._schedules import constant, poisson, ramp, rate_function, replay, steps
from ._summary import DeliverySummary, Limit, StreamState
from ._transports import (
    Boto3Target,
    CrtTarget,
    FastTarget,
    JsonlTarget,
    MemoryTarget,
    Response,
    Target,
)

__all__ = [
    "Attempt",
    "Boto3Target",
    "Conversion",
    "CrtTarget",
    "DeliverySummary",
    "FastTarget",
    "JsonlTarget",
    "Limit",
    "MemoryTarget",
    "Outcome",
    "Pacing",
    "Response",
    "RetryPolicy",
    "StreamHandle",
    "StreamState",
    "Target",
    "constant",
    "open_stream",
    "poisson",
    "ramp",
    "rate_function",
    "replay",
    "steps",
]

expose(__name__, globals(), __all__)
