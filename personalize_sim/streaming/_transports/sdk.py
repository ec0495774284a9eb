"""Boto3Target: send with a boto3 ``personalize-events`` client (yours, or one we build)."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from ..._aws import (
    CREDENTIALS_FIX,
    EVENTS_SERVICE,
    boto3_client,
    check_endpoint_url,
    is_loopback,
    local_keys_if_needed,
)
from ..._checks import count
from ...errors import ConfigError, ConfigTypeError
from .._retry import CONNECTION_ERROR
from .._wire import Prepared
from .base import Response, Target, monotonic

__all__ = ["Boto3Target"]

logger = logging.getLogger("personalize_sim.streaming")
_BEFORE_SEND = f"before-send.{EVENTS_SERVICE}.PutEvents"
_BEFORE_PARSE = f"before-parse.{EVENTS_SERVICE}.PutEvents"


class Boto3Target(Target):
    """Send with a boto3 ``personalize-events`` client.

    Pass your own ``client`` (any profile, region, ``endpoint_url``); build it with
    ``Config(retries={"total_max_attempts": 1})`` so boto3 does not retry unseen (if it
    does, its retries are counted). Without a client, one is built at open time from
    ``profile``/``region``/``endpoint_url`` with retries off. ``threads`` calls run at once.
    """

    name = "boto3"

    def __init__(
        self,
        client: Any = None,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        threads: int = 16,
        parameter_validation: bool = True,
    ) -> None:
        if client is not None and not hasattr(client, "put_events"):
            raise ConfigTypeError("client", client, "a boto3 'personalize-events' client")
        count(threads, "threads", low=1)
        self.client = client
        self._own_client = client is None
        self.profile, self.region = profile, region
        self.endpoint_url = check_endpoint_url(endpoint_url)
        self.threads = threads
        self.parameter_validation = parameter_validation
        self._pool: Any = None
        self._keys: tuple[str, str] | None = None  # fake local keys, when prepare() chose them
        self._local = threading.local()  # per worker thread: when its call went on the wire
        self._hook_id = f"personalize-sim-wire-stamp-{id(self)}"
        self.sdk_retries_enabled = False
        self.pool = ("threads", self._threads())

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
        """Find credentials now (fake local ones for a loopback endpoint), not per request."""
        if self._own_client:
            self._keys = self._keys or local_keys_if_needed(
                profile=self.profile, endpoint_url=self.endpoint_url
            )
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

        if self.client is None:
            self.client = boto3_client(
                profile=self.profile, region=self.region, endpoint_url=self.endpoint_url,
                retries={"total_max_attempts": 1},  # the stream retries, and logs each attempt
                max_pool_connections=self.threads, keys=self._keys,
                parameter_validation=self.parameter_validation,
            )  # fmt: skip
        retries = getattr(self.client.meta.config, "retries", None) or {}
        attempts = retries.get("total_max_attempts", retries.get("max_attempts", 5))
        self.sdk_retries_enabled = attempts is None or attempts > 1
        self.pool = ("threads", self._threads())
        self._pool = ThreadPoolExecutor(max_workers=self.pool[1], thread_name_prefix="ps-boto3")
        self._local = threading.local()
        events = self.client.meta.events
        events.register(_BEFORE_SEND, self._on_send, unique_id=self._hook_id)
        events.register(_BEFORE_PARSE, self._on_answer, unique_id=self._hook_id + "-answer")

    async def send(self, prepared: Prepared) -> Response:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, prepared.request)

    def _call(self, request: Mapping[str, Any]) -> Response:
        """One call on a worker thread: the wait for the thread is queueing, and the wire
        starts when botocore sends (after serialising and signing, see :meth:`_on_send`)."""
        local = self._local
        local.sent = acquired = monotonic()
        local.first, local.received = True, math.nan
        status, code, message, sdk_retries = self._put(request)
        ended = monotonic() if math.isnan(local.received) else local.received
        return Response(status, code, message, sdk_retries, local.sent, ended, acquired)

    def _on_send(self, **kwargs: Any) -> None:
        """botocore's ``before-send``: the request goes on the wire now (first try only, so
        retries inside a client of yours count as the service's time)."""
        local = self._local
        if getattr(local, "first", False):
            local.sent, local.first = monotonic(), False

    def _on_answer(self, **kwargs: Any) -> None:
        """botocore's ``before-parse``: the answer is in (parsing it is the client's time)."""
        self._local.received = monotonic()

    def _put(self, request: Mapping[str, Any]) -> tuple[int, str, str, int]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            HTTPClientError,
            ParamValidationError,
        )
        from botocore.exceptions import ConnectionError as BotoConnectionError

        try:
            response = self.client.put_events(**request)
        except ClientError as e:
            meta = e.response.get("ResponseMetadata", {})
            error = e.response.get("Error", {})
            return (
                int(meta.get("HTTPStatusCode") or 0) or 400,
                str(error.get("Code") or "ClientError"),
                str(error.get("Message") or e),
                int(meta.get("RetryAttempts") or 0),
            )
        except (BotoConnectionError, HTTPClientError) as e:  # refused, reset, timed out
            return 0, CONNECTION_ERROR, str(e), 0
        except ParamValidationError as e:
            return 400, "ParamValidationError", str(e), 0
        except BotoCoreError as e:  # e.g. NoCredentialsError: retrying cannot help
            return 0, type(e).__name__, str(e), 0
        meta = response.get("ResponseMetadata", {})
        return int(meta.get("HTTPStatusCode", 200)), "", "", int(meta.get("RetryAttempts") or 0)

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            events = self.client.meta.events
            events.unregister(_BEFORE_SEND, unique_id=self._hook_id)
            events.unregister(_BEFORE_PARSE, unique_id=self._hook_id + "-answer")
        if self._own_client and self.client is not None:
            self.client.close()
            self.client = None

    def for_worker(self, index: int) -> Target:
        if not self._own_client:
            super().for_worker(index)
        copy = Boto3Target(
            profile=self.profile,
            region=self.region,
            endpoint_url=self.endpoint_url,
            threads=self.threads,
            parameter_validation=self.parameter_validation,
        )
        copy._keys = self._keys  # only ever the fake local pair: real keys are never passed on
        return copy

    def __repr__(self) -> str:
        where = self.endpoint_url or (self.client.meta.endpoint_url if self.client else "default")
        return f"Boto3Target({where!r})"
