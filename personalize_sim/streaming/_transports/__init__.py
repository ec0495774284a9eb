"""The transports, one module each: the user's boto3 client, fast signed HTTP, a file, memory.

Every target is an async object with ``open()``, ``send(prepared) -> Response`` and
``close()``; ``prepare()`` checks its settings and credentials before the first send. Only
transports open sockets. A transport stamps when a request really goes on the wire (a connection
acquired; botocore sending, on a worker thread), so its wait for a connection or a thread is
reported as queue time, not as the service's latency. A target never retries on its own: the
stream's :class:`~personalize_sim.streaming.RetryPolicy` does, so every attempt is logged.

* :class:`Boto3Target` — a ``personalize-events`` client (yours, or one built from the default
  session with boto3's retries turned off); calls run on a small thread pool. If your client
  keeps boto3's retries on, the retries it makes are counted from each answer's
  ``ResponseMetadata.RetryAttempts`` (``sdk_retries``), never hidden.
* :class:`FastTarget` — credentials from botocore's provider chain, SigV4 from botocore (signing
  name ``personalize``), body pre-serialised with orjson, sent with aiohttp: about 5× cheaper
  per call than boto3 (``docs/reference/load-generation.md``).
* :class:`~.crt.CrtTarget` — the same on ``awscrt``'s SigV4 and HTTP, cheaper
  still; ``target="fast"`` picks it when ``awscrt`` is installed (:func:`fast_target`).
* :class:`JsonlTarget` — dry run: one JSON body per line, as the service would receive it.
* :class:`MemoryTarget` — keeps requests in a list; ``respond=`` scripts faults for tests.

Each is a frozen dataclass of its settings; what it acquires while it runs lives apart, so
the copy a worker process gets (``for_worker``: ``dataclasses.replace``, then a pickle of the
settings) has every setting and nothing live (:mod:`.base`).

How it is laid out::

    base        Target (what a transport is), Response (what one attempt got back)
    signing     Signing: the region, keys, credentials and URL the signed transports resolve
    sdk         Boto3Target: a boto3 client's put_events on a thread pool
    fast        FastTarget: botocore SigV4 + orjson + aiohttp
    crt         CrtTarget: SigV4 and HTTP/1.1 on awscrt (optional; the only awscrt user)
    jsonl       JsonlTarget: a dry run to a file
    memory      MemoryTarget: a list, with scripted faults
    shorthand   make_target, fast_target: the ``target=`` shorthand
"""

from __future__ import annotations

from .base import OK, Response, Target
from .crt import CrtTarget, crt_available
from .fast import FastTarget
from .jsonl import JsonlTarget
from .memory import MemoryTarget
from .sdk import Boto3Target
from .shorthand import fast_target, make_target

__all__ = [
    "OK",
    "Boto3Target",
    "CrtTarget",
    "FastTarget",
    "JsonlTarget",
    "MemoryTarget",
    "Response",
    "Target",
    "crt_available",
    "fast_target",
    "make_target",
]
