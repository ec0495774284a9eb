"""Boto3Target: send with a boto3 ``personalize-events`` client (yours, or one we build)."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from functools import partial
from typing import Any

from ..._aws import (
    CREDENTIALS_FIX,
    EVENTS_SERVICE,
    boto3_client,
    check_endpoint_url,
    is_loopback,
)
from ..._checks import count, positive
from ...errors import ConfigError, ConfigTypeError
from .._retry import CONNECTION_ERROR, TLS_ERROR
from .._wire import Prepared
from .base import Response, Target, monotonic, tls_failure
from .signing import Signing

__all__ = ["Boto3Target"]

logger = logging.getLogger("personalize_sim.streaming")
# every operation of the service (PutEvents, PutItems… each stream may send any of them)
_BEFORE_SEND = f"before-send.{EVENTS_SERVICE}"
_BEFORE_PARSE = f"before-parse.{EVENTS_SERVICE}"


@dataclass
class _Live:
    """What a Boto3Target acquires: the client in use, its thread pool, the wire stamps."""

    client: Any = None  # the caller's, or one built at open
    signing: Signing = field(default_factory=Signing)  # region and explicit keys, resolved
    executor: Any = None
    slots: asyncio.Semaphore | None = None  # one per thread
    local: threading.local = field(default_factory=threading.local, compare=False)


@dataclass(frozen=True, eq=False, repr=False)
class Boto3Target(Target):
    """Send with a boto3 ``personalize-events`` client.

    Pass your own ``client`` (any profile, region, ``endpoint_url``); build it with
    ``Config(retries={"total_max_attempts": 1})`` so boto3 does not retry unseen (if it
    does, its retries are counted). Without a client, one is built at open time from
    ``profile``/``region``/``endpoint_url`` (explicit keys first, as the other transports)
    with retries off, ``connect_timeout`` to open a connection and ``timeout`` for an answer
    (a client of yours keeps its own). ``threads`` calls run at once.
    """

    name = "boto3"

    client: Any = None
    _: KW_ONLY
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    threads: int = 16
    parameter_validation: bool = True
    timeout: float = 30.0
    connect_timeout: float = 10.0
    access_key_id: str | None = None
    secret_access_key: str | None = None
    _live: _Live = field(init=False, repr=False, default_factory=_Live)

    def __post_init__(self) -> None:
        if self.client is not None and not hasattr(self.client, "put_events"):
            raise ConfigTypeError("client", self.client, "a boto3 'personalize-events' client")
        count(self.threads, "threads", low=1)
        positive(self.timeout, "timeout")
        positive(self.connect_timeout, "connect_timeout")
        check_endpoint_url(self.endpoint_url)
        self._live.client = self.client
        object.__setattr__(self, "pool", ("threads", self._threads()))

    @property
    def _hook_id(self) -> str:
        return f"personalize-sim-wire-stamp-{id(self)}"

    def _threads(self) -> int:
        """Calls at once: ``threads``, or fewer if the client's connection pool is smaller."""
        if self.client is None:
            return self.threads
        pool_size = getattr(self.client.meta.config, "max_pool_connections", 10) or 10
        return max(1, min(self.threads, pool_size))

    @property
    def endpoint(self) -> str:
        if self.client is not None:
            return str(self.client.meta.endpoint_url)
        return self.endpoint_url or f"AWS ({self.region or 'default region'})"

    def prepare(self) -> None:
        """Find the region and credentials now (fake local ones for a loopback endpoint),
        not per request."""
        if self.client is None:
            self._live.signing.prepare(self)
            return
        self._note_sdk_retries()
        signer = getattr(self.client, "_request_signer", None)
        if signer is not None and getattr(signer, "_credentials", True) is None:
            fix = "LocalTracker.client()" if is_loopback(self.endpoint) else CREDENTIALS_FIX
            raise ConfigError(
                "credentials", None,
                f"the boto3 client given as target has no credentials for {self.endpoint}; "
                f"build it with credentials ({fix})",
            )  # fmt: skip

    def _note_sdk_retries(self) -> None:
        """Say once that a client of yours retries on its own, and how it is counted."""
        retries = getattr(self.client.meta.config, "retries", None) or {}
        attempts = retries.get("total_max_attempts", retries.get("max_attempts", 5))
        if attempts is None or attempts > 1:
            logger.warning(
                "the boto3 client given as target retries on its own (mode %s): its retries are "
                "counted from each answer's RetryAttempts (sdk_retries), and their waits count "
                "as service time; build it with Config(retries={'total_max_attempts': 1}) to "
                "see every attempt", retries.get("mode", "legacy"),
            )  # fmt: skip

    async def open(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        live = self._live
        if live.client is None:
            self.prepare()
            signing = live.signing
            access_key_id, secret_access_key = signing.keys
            keys = (
                (access_key_id, secret_access_key) if access_key_id and secret_access_key else None
            )
            live.client = boto3_client(
                profile=self.profile, region=signing.region, endpoint_url=self.endpoint_url,
                retries={"total_max_attempts": 1},  # the stream retries, and logs each attempt
                max_pool_connections=self.threads, keys=keys,
                parameter_validation=self.parameter_validation,
                connect_timeout=self.connect_timeout, read_timeout=self.timeout,
            )  # fmt: skip
        threads = self._threads()
        live.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ps-boto3")
        live.slots = asyncio.Semaphore(threads)
        live.local = threading.local()
        events = live.client.meta.events
        events.register(_BEFORE_SEND, self._on_send, unique_id=self._hook_id)
        events.register(_BEFORE_PARSE, self._on_answer, unique_id=self._hook_id + "-answer")

    async def send(self, prepared: Prepared) -> Response:
        live = self._live
        assert live.slots is not None, "Boto3Target is not open"
        # a call is handed to a thread only when one is free, so one that is never made
        # (the stream stopped or gave up meanwhile) never waits in the pool's queue
        async with live.slots:
            loop = asyncio.get_running_loop()
            call = partial(self._call, prepared.request, prepared.operation)
            return await loop.run_in_executor(live.executor, call)

    def _call(self, request: Mapping[str, Any], operation: str = "PutEvents") -> Response:
        """One call on a worker thread: the wait for the thread is queueing, and the wire
        starts when botocore sends (after serialising and signing, see :meth:`_on_send`)."""
        local = self._live.local
        local.sent = acquired = monotonic()
        local.first, local.received = True, math.nan
        status, code, message, sdk_retries = self._put(request, operation)
        ended = monotonic() if math.isnan(local.received) else local.received
        return Response(status, code, message, sdk_retries, local.sent, ended, acquired)

    def _on_send(self, **kwargs: Any) -> None:
        """botocore's ``before-send``: the request goes on the wire now (first try only, so
        retries inside a client of yours count as the service's time)."""
        local = self._live.local
        if getattr(local, "first", False):
            local.sent, local.first = monotonic(), False

    def _on_answer(self, **kwargs: Any) -> None:
        """botocore's ``before-parse``: the answer is in (parsing it is the client's time)."""
        self._live.local.received = monotonic()

    def _put(self, request: Mapping[str, Any], operation: str) -> tuple[int, str, str, int]:
        from botocore import xform_name
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            HTTPClientError,
            ParamValidationError,
            SSLError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        try:
            client = self._live.client
            call = client.put_events if operation == "PutEvents" else getattr(
                client, xform_name(operation)
            )  # fmt: skip
            response = call(**request)
        except ClientError as e:
            meta = e.response.get("ResponseMetadata", {})
            error = e.response.get("Error", {})
            return (
                int(meta.get("HTTPStatusCode") or 0) or 400,
                str(error.get("Code") or "ClientError"),
                str(error.get("Message") or e),
                int(meta.get("RetryAttempts") or 0),
            )
        except SSLError as e:  # not retried: a setting to fix
            fix = "trust the CA that signed it (AWS_CA_BUNDLE, or your client's verify=)"
            return 0, TLS_ERROR, tls_failure(self.endpoint, str(e.kwargs.get("error", e)), fix), 0
        except (BotoConnectionError, HTTPClientError) as e:  # refused, reset, timed out
            return 0, CONNECTION_ERROR, str(e), 0
        except ParamValidationError as e:
            return 400, "ParamValidationError", str(e), 0
        except BotoCoreError as e:  # e.g. NoCredentialsError: retrying cannot help
            return 0, type(e).__name__, str(e), 0
        meta = response.get("ResponseMetadata", {})
        return int(meta.get("HTTPStatusCode", 200)), "", "", int(meta.get("RetryAttempts") or 0)

    async def close(self) -> None:
        live = self._live
        if live.executor is not None:
            live.executor.shutdown(wait=True)
            live.executor = None
            events = live.client.meta.events
            events.unregister(_BEFORE_SEND, unique_id=self._hook_id)
            events.unregister(_BEFORE_PARSE, unique_id=self._hook_id + "-answer")
        if self.client is None and live.client is not None:  # the one built at open
            live.client.close()
            live.client = None

    def for_worker(self, index: int) -> Target:
        if self.client is not None:
            super().for_worker(index)  # a live client cannot cross a process boundary
        return self._live.signing.worker_copy(self)

    def __repr__(self) -> str:
        where = self.endpoint_url or (self.client.meta.endpoint_url if self.client else "default")
        return f"Boto3Target({where!r})"
