"""Where requests go: the user's boto3 client, a fast signed HTTP transport, a file, memory.

Every target is an async object with ``open()``, ``send(prepared) -> Response`` and
``close()``; only targets open sockets. A target never retries on its own: the stream's
:class:`~personalize_sim.streaming.retry.RetryPolicy` does, so every attempt is logged.

* :class:`Boto3Target` — a ``personalize-events`` client (yours, or one built from the default
  session with boto3's retries turned off); calls run on a small thread pool. If your client
  keeps boto3's retries on, the retries it makes are counted (``sdk_retries``), never hidden.
* :class:`FastTarget` — credentials from botocore's provider chain, SigV4 from botocore (signing
  name ``personalize``), body pre-serialised with orjson, sent with aiohttp: about 5× cheaper
  per call than boto3 (``reference/load-generation.md``).
* :class:`JsonlTarget` — dry run: one JSON body per line, as the service would receive it.
* :class:`MemoryTarget` — keeps requests in a list; ``respond=`` scripts faults for tests.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._aws import EVENTS_SERVICE, SIGNING_NAME, boto3_client
from .._checks import count, positive
from ..errors import ConfigError, ConfigTypeError
from ._retry import CONNECTION_ERROR
from ._wire import Prepared

__all__ = [
    "Boto3Target",
    "FastTarget",
    "JsonlTarget",
    "MemoryTarget",
    "Response",
    "Target",
    "make_target",
]


@dataclass(frozen=True)
class Response:
    """What one attempt got back: HTTP status (0 if none), error code and message."""

    status: int = 200
    error_code: str = ""
    message: str = ""
    sdk_retries: int = 0


OK = Response()


class Target:
    """Base class: override :meth:`send`; ``open``/``close`` are optional."""

    name = "target"

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
        self.profile, self.region, self.endpoint_url = profile, region, endpoint_url
        self.threads = threads
        self.parameter_validation = parameter_validation
        self._pool: Any = None
        self.sdk_retries_enabled = False

    async def open(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        if self.client is None:
            self.client = boto3_client(
                profile=self.profile, region=self.region, endpoint_url=self.endpoint_url,
                retries={"total_max_attempts": 1},  # the stream retries, and logs each attempt
                max_pool_connections=self.threads,
                parameter_validation=self.parameter_validation,
            )  # fmt: skip
        retries = getattr(self.client.meta.config, "retries", None) or {}
        attempts = retries.get("total_max_attempts", retries.get("max_attempts", 5))
        self.sdk_retries_enabled = attempts is None or attempts > 1
        pool_size = getattr(self.client.meta.config, "max_pool_connections", 10) or 10
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, min(self.threads, pool_size)), thread_name_prefix="ps-boto3"
        )

    async def send(self, prepared: Prepared) -> Response:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._call, prepared.request)

    def _call(self, request: Mapping[str, Any]) -> Response:
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
            return Response(
                int(meta.get("HTTPStatusCode") or 0) or 400,
                str(error.get("Code") or "ClientError"),
                str(error.get("Message") or e),
                int(meta.get("RetryAttempts") or 0),
            )
        except (BotoConnectionError, HTTPClientError) as e:  # refused, reset, timed out
            return Response(0, CONNECTION_ERROR, str(e))
        except ParamValidationError as e:
            return Response(400, "ParamValidationError", str(e))
        except BotoCoreError as e:  # e.g. NoCredentialsError: retrying cannot help
            return Response(0, type(e).__name__, str(e))
        meta = response.get("ResponseMetadata", {})
        status = int(meta.get("HTTPStatusCode", 200))
        return Response(status, "", "", int(meta.get("RetryAttempts") or 0))

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._own_client and self.client is not None:
            self.client.close()
            self.client = None

    def for_worker(self, index: int) -> Target:
        if not self._own_client:
            super().for_worker(index)
        return Boto3Target(
            profile=self.profile,
            region=self.region,
            endpoint_url=self.endpoint_url,
            threads=self.threads,
            parameter_validation=self.parameter_validation,
        )

    def __repr__(self) -> str:
        where = self.endpoint_url or (self.client.meta.endpoint_url if self.client else "default")
        return f"Boto3Target({where!r})"


# ---------------------------------------------------------------------------------------------


class FastTarget(Target):
    """Signed PutEvents over aiohttp with a pre-serialised body; for high rates.

    Credentials and region come from botocore's provider chain (``profile``, environment,
    config files, instance roles…); refreshable credentials are re-read per request. Without
    ``endpoint_url`` the endpoint is the one botocore resolves for the region.
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
        self.endpoint_url, self.region, self.profile = endpoint_url, region, profile
        self.connections, self.timeout = connections, timeout
        # explicit keys (e.g. a local emulator's dummy pair) beat the provider chain
        self._keys = (access_key_id, secret_access_key)
        self._session: Any = None
        self._credentials: Any = None
        self._signers: dict[tuple, Any] = {}
        self._sigv4: Any = None
        self.url = ""

    async def open(self) -> None:
        import aiohttp
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        self._sigv4 = (SigV4Auth, AWSRequest)
        session = botocore.session.Session(profile=self.profile)
        region = self.region or session.get_config_variable("region")
        if not region:
            raise ConfigError("region", region, "set region= (or AWS_DEFAULT_REGION) for signing")
        self.region = region
        if all(self._keys):
            session.set_credentials(*self._keys)
        self._credentials = session.get_credentials()
        if self._credentials is None:
            raise ConfigError(
                "credentials", None, "no AWS credentials found by botocore's provider chain; "
                "set a profile or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables"
            )  # fmt: skip
        endpoint = self.endpoint_url
        if endpoint is None:  # the endpoint botocore itself would use
            client = session.create_client(EVENTS_SERVICE, region_name=region)
            endpoint = client.meta.endpoint_url
            client.close()
        self.url = endpoint.rstrip("/") + "/events"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            skip_auto_headers=("User-Agent",),
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
        try:
            async with self._session.post(self.url, data=body, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
                error_type = resp.headers.get("x-amzn-ErrorType", "")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            return Response(0, CONNECTION_ERROR, f"{type(e).__name__}: {e}")
        if status < 300:
            return Response(status)
        return _error_response(status, error_type, raw)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def for_worker(self, index: int) -> Target:
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


def _error_response(status: int, error_type: str, raw: bytes) -> Response:
    """Decode an AWS rest-json error as botocore does: header code first, then the body."""
    import orjson

    code = error_type.split(":", 1)[0].strip()
    message = ""
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        body = {}
    if isinstance(body, dict):
        message = str(body.get("message") or body.get("Message") or "")
        if not code:
            code = str(body.get("__type") or body.get("code") or "").rsplit("#", 1)[-1]
    if not code:
        code = {429: "ThrottlingException", 503: "ServiceUnavailable"}.get(status, f"HTTP{status}")
    return Response(status, code, message)


def make_target(target: Any) -> Target:
    """Turn the ``target=`` shorthand into a Target.

    None or "boto3": a boto3 client from the default session (retries off); "fast":
    :class:`FastTarget`; "memory": :class:`MemoryTarget`; a boto3 client: :class:`Boto3Target`
    around it; a Target: itself.
    """
    if isinstance(target, Target):
        return target
    if target is None or target == "boto3":
        return Boto3Target()
    if target == "fast":
        return FastTarget()
    if target == "memory":
        return MemoryTarget()
    if hasattr(target, "put_events"):
        return Boto3Target(target)
    raise ConfigTypeError(
        "target", target,
        "a boto3 personalize-events client, a Target, or one of 'boto3', 'fast', 'memory'",
    )  # fmt: skip
