"""Where requests go: the user's boto3 client, a fast signed HTTP transport, a file, memory.

Every target is an async object with ``open()``, ``send(prepared) -> Response`` and
``close()``; ``prepare()`` checks its settings and credentials before the first send. Only
targets open sockets. A transport stamps when a request really goes on the wire (a connection
acquired; botocore sending, on a worker thread), so its wait for a connection or a thread is
reported as queue time, not as the service's latency. A target never retries on its own: the
stream's :class:`~personalize_sim.streaming.retry.RetryPolicy` does, so every attempt is logged.

* :class:`Boto3Target` — a ``personalize-events`` client (yours, or one built from the default
  session with boto3's retries turned off); calls run on a small thread pool. If your client
  keeps boto3's retries on, the retries it makes are counted from each answer's
  ``ResponseMetadata.RetryAttempts`` (``sdk_retries``), never hidden.
* :class:`FastTarget` — credentials from botocore's provider chain, SigV4 from botocore (signing
  name ``personalize``), body pre-serialised with orjson, sent with aiohttp: about 5× cheaper
  per call than boto3 (``docs/reference/load-generation.md``).
* :class:`~._crt.CrtTarget` (in ``_crt``) — the same on ``awscrt``'s SigV4 and HTTP, cheaper
  still; ``target="fast"`` picks it when ``awscrt`` is installed (:func:`fast_target`).
* :class:`JsonlTarget` — dry run: one JSON body per line, as the service would receive it.
* :class:`MemoryTarget` — keeps requests in a list; ``respond=`` scripts faults for tests.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._aws import (
    CREDENTIALS_FIX,
    EVENTS_SERVICE,
    SIGNING_NAME,
    boto3_client,
    check_endpoint_url,
    is_loopback,
    local_keys_if_needed,
    resolve_signing,
    signing_credentials_and_url,
)
from .._checks import count, positive
from ..errors import ConfigError, ConfigTypeError
from ._retry import CONNECTION_ERROR
from ._wire import Prepared, error_fields

__all__ = [
    "Boto3Target",
    "FastTarget",
    "JsonlTarget",
    "MemoryTarget",
    "Response",
    "Target",
    "fast_target",
    "make_target",
]

logger = logging.getLogger("personalize_sim.streaming")
_BEFORE_SEND = f"before-send.{EVENTS_SERVICE}.PutEvents"
_BEFORE_PARSE = f"before-parse.{EVENTS_SERVICE}.PutEvents"
_monotonic = time.monotonic  # the clock of SystemClock: wire stamps compare with its times


@dataclass(frozen=True)
class Response:
    """What one attempt got back: HTTP status (0 if none), error code and message.

    ``acquired`` is the monotonic time the transport got a connection or a worker thread for
    it, ``started``/``ended`` when the request went on the wire and its answer came back,
    when the transport knows them (NaN: the sender stamps them itself).
    """

    status: int = 200
    error_code: str = ""
    message: str = ""
    sdk_retries: int = 0
    started: float = math.nan
    ended: float = math.nan
    acquired: float = math.nan


OK = Response()


class Target:
    """Base class: override :meth:`send`; ``open``/``close`` are optional."""

    name = "target"
    #: the transport's own concurrency limit, as (what, how many): ("connections", 64)
    pool: tuple[str, int] | None = None

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages."""
        return repr(self)

    def prepare(self) -> None:
        """Check settings and credentials before the first send (in the caller's process)."""

    async def open(self) -> None:
        """Acquire resources (called on the stream's own event loop)."""

    async def send(self, prepared: Prepared) -> Response:
        raise NotImplementedError

    async def close(self) -> None:
        """Release resources."""

    def for_worker(self, index: int) -> Target:
        """A copy for worker process ``index`` (``processes=N``); must be picklable."""
        raise ConfigTypeError(
            "target", self,
            "a target built from settings to share across processes (processes=N): "
            "target='fast', or Boto3Target(profile=…, region=…) rather than a live client",
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# ---------------------------------------------------------------------------------------------


class MemoryTarget(Target):
    """Keeps every delivered request in ``requests``; ``respond`` injects faults.

    ``respond(request, attempt)`` returns None (success), an error code such as
    ``"ThrottlingException"`` (sent as status 400, or 500 for ``InternalFailure`` /
    ``ServiceUnavailable``), or a :class:`Response`. ``attempt`` counts calls for that request id.
    """

    name = "memory"

    def __init__(self, respond: Callable[[dict, int], Any] | None = None) -> None:
        self.respond = respond
        self.requests: list[dict] = []
        self.calls: dict[str, int] = {}

    async def send(self, prepared: Prepared) -> Response:
        n = self.calls[prepared.id] = self.calls.get(prepared.id, 0) + 1
        answer = None if self.respond is None else self.respond(dict(prepared.request), n)
        if isinstance(answer, str):
            status = 500 if answer in ("InternalFailure", "ServiceUnavailable") else 400
            if answer == CONNECTION_ERROR:
                status = 0
            answer = Response(status, answer, f"injected {answer}")
        if answer is None or answer.status == 200:
            self.requests.append(dict(prepared.request))
            return answer or OK
        return answer

    def __repr__(self) -> str:
        return f"MemoryTarget(requests={len(self.requests)})"


class JsonlTarget(Target):
    """Dry run: append each request's JSON body (as on the wire) to ``path``, one per line."""

    name = "jsonl"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    async def open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def send(self, prepared: Prepared) -> Response:
        if self._fd is None:
            raise RuntimeError("JsonlTarget is not open")
        # one write per line with O_APPEND, so several processes can share the file
        os.write(self._fd, prepared.body + b"\n")
        return OK

    async def close(self) -> None:
        if self._fd is not None:
            if stat.S_ISREG(os.fstat(self._fd).st_mode):  # a pipe or a tty cannot fsync
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None

    def for_worker(self, index: int) -> Target:
        return JsonlTarget(self.path)

    def __repr__(self) -> str:
        return f"JsonlTarget({str(self.path)!r})"


# ---------------------------------------------------------------------------------------------


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
        local.sent = acquired = _monotonic()
        local.first, local.received = True, math.nan
        status, code, message, sdk_retries = self._put(request)
        ended = _monotonic() if math.isnan(local.received) else local.received
        return Response(status, code, message, sdk_retries, local.sent, ended, acquired)

    def _on_send(self, **kwargs: Any) -> None:
        """botocore's ``before-send``: the request goes on the wire now (first try only, so
        retries inside a client of yours count as the service's time)."""
        local = self._local
        if getattr(local, "first", False):
            local.sent, local.first = _monotonic(), False

    def _on_answer(self, **kwargs: Any) -> None:
        """botocore's ``before-parse``: the answer is in (parsing it is the client's time)."""
        self._local.received = _monotonic()

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


# ---------------------------------------------------------------------------------------------


class FastTarget(Target):
    """Signed PutEvents over aiohttp with a pre-serialised body; for high rates.

    Credentials and region come from botocore's provider chain (``profile``, environment,
    config files, instance roles…); refreshable credentials are re-read per request. Without
    ``endpoint_url`` the endpoint is the one botocore resolves for the region. At most
    ``connections`` requests are on the wire at once; a send waiting for one is queueing.
    """

    name = "fast"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        connections: int = 64,
        timeout: float = 30.0,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        count(connections, "connections", low=1)
        positive(timeout, "timeout")
        self.endpoint_url = check_endpoint_url(endpoint_url)
        self.region, self.profile = region, profile
        self.connections, self.timeout = connections, timeout
        self.pool = ("connections", connections)
        # explicit keys (e.g. a local emulator's dummy pair) beat the provider chain
        self._keys = (access_key_id, secret_access_key)
        self._session: Any = None
        self._credentials: Any = None
        self._signers: dict[tuple, Any] = {}
        self._sigv4: Any = None
        self._slots: asyncio.Semaphore | None = None
        self._prepared = False
        self.url = ""

    @property
    def endpoint(self) -> str:
        return self.url or self.endpoint_url or f"AWS ({self.region or 'default region'})"

    def prepare(self) -> None:
        """Resolve the region and find credentials (fake local ones for a loopback endpoint)."""
        if self._prepared:
            return
        self.region, self._keys = resolve_signing(
            self.region, self.profile, self.endpoint_url, self._keys
        )
        self._prepared = True

    async def open(self) -> None:
        import aiohttp

        self.prepare_signing()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            skip_auto_headers=("User-Agent",),
        )
        self._slots = asyncio.Semaphore(self.connections)

    def prepare_signing(self) -> None:
        """Find credentials and the endpoint, so :meth:`signed_headers` works without
        :meth:`open` (for callers with their own HTTP client, such as Locust's)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        self.prepare()
        self._sigv4 = (SigV4Auth, AWSRequest)
        self._credentials, self.url = signing_credentials_and_url(
            self.profile, self.region or "", self.endpoint_url, self._keys
        )

    def signed_headers(self, body: bytes) -> dict[str, str]:
        """Headers of a SigV4-signed ``POST /events`` carrying ``body``."""
        SigV4Auth, AWSRequest = self._sigv4  # noqa: N806 (imported in open: classes)
        creds = self._credentials.get_frozen_credentials()
        key = (creds.access_key, creds.secret_key, creds.token)
        signer = self._signers.get(key)
        if signer is None:
            self._signers = {key: SigV4Auth(creds, SIGNING_NAME, self.region)}
            signer = self._signers[key]
        request = AWSRequest(
            method="POST", url=self.url, data=body, headers={"Content-Type": "application/json"}
        )
        signer.add_auth(request)
        return dict(request.headers.items())

    async def send(self, prepared: Prepared) -> Response:
        import aiohttp

        body = prepared.body
        headers = self.signed_headers(body)
        assert self._slots is not None, "FastTarget is not open"
        async with self._slots:  # one per connection: waiting here is queueing, not service
            started = _monotonic()
            try:
                async with self._session.post(self.url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
                    error_type = resp.headers.get("x-amzn-ErrorType", "")
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                ended = _monotonic()
                message = f"{type(e).__name__}: {e}"
                return Response(0, CONNECTION_ERROR, message, 0, started, ended, started)
            ended = _monotonic()
        if status < 300:
            return Response(status, "", "", 0, started, ended, started)
        code, message = error_fields(status, error_type, raw)
        return Response(status, code, message, 0, started, ended, started)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def for_worker(self, index: int) -> Target:
        # explicit keys are the caller's own or the fake local pair; the chain's are not passed
        return FastTarget(
            endpoint_url=self.endpoint_url,
            region=self.region,
            profile=self.profile,
            connections=self.connections,
            timeout=self.timeout,
            access_key_id=self._keys[0],
            secret_access_key=self._keys[1],
        )

    def __repr__(self) -> str:
        return f"FastTarget({self.endpoint_url or self.region or 'default'!r})"


def make_target(target: Any) -> Target:
    """Turn the ``target=`` shorthand into a Target.

    None or "boto3": a boto3 client from the default session (retries off); "fast": the
    fastest signed transport installed (:func:`fast_target`); "crt": the native transport
    (needs ``awscrt``); "aiohttp": :class:`FastTarget`; "memory": :class:`MemoryTarget`; a
    boto3 client: :class:`Boto3Target` around it; a Target: itself.
    """
    if isinstance(target, Target):
        return target
    if target is None or target == "boto3":
        return Boto3Target()
    if target == "fast":
        return fast_target()
    if target == "crt":
        from ._crt import CrtTarget

        return CrtTarget()
    if target == "aiohttp":
        return FastTarget()
    if target == "memory":
        return MemoryTarget()
    if hasattr(target, "put_events"):
        return Boto3Target(target)
    raise ConfigTypeError(
        "target", target,
        "a boto3 personalize-events client, a Target, or one of 'boto3', 'fast', 'crt', "
        "'aiohttp', 'memory'",
    )  # fmt: skip


def fast_target(**settings: Any) -> Target:
    """The fast signed transport: :class:`~._crt.CrtTarget` when ``awscrt`` is installed
    (``pip install personalize-sim[crt]``), else :class:`FastTarget` (aiohttp); ``settings``
    (``endpoint_url``, ``region``, ``profile``, ``connections``, ``timeout``…) go to it.

    >>> fast_target(endpoint_url="http://127.0.0.1:8000").name in ("crt", "fast")
    True
    """
    from ._crt import CrtTarget, crt_available

    return CrtTarget(**settings) if crt_available() else FastTarget(**settings)
