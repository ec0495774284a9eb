"""FastTarget: SigV4 from botocore, a body pre-serialised with orjson, sent with aiohttp."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..._aws import SIGNING_NAME, check_endpoint_url
from ..._checks import count, positive
from .._retry import CONNECTION_ERROR, TLS_ERROR
from .._wire import Prepared, error_fields
from .base import Response, Target, monotonic, tls_failure
from .signing import Signing

__all__ = ["FastTarget"]


@dataclass
class _Live:
    """What a FastTarget acquires: resolved signing, signers, the aiohttp session."""

    signing: Signing = field(default_factory=Signing)
    signers: dict[tuple, Any] = field(default_factory=dict)
    sigv4: Any = None  # (SigV4Auth, AWSRequest), imported when signing is prepared
    session: Any = None
    slots: asyncio.Semaphore | None = None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class FastTarget(Target):
    """Signed PutEvents over aiohttp with a pre-serialised body; for high rates.

    Credentials and region come from botocore's provider chain (``profile``, environment,
    config files, instance roles…); refreshable credentials are re-read per request. Without
    ``endpoint_url`` the endpoint is the one botocore resolves for the region. At most
    ``connections`` requests are on the wire at once; a send waiting for one is queueing.
    Explicit keys (e.g. a local emulator's dummy pair) beat the provider chain.
    """

    name = "fast"

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    connections: int = 64
    timeout: float = 30.0
    access_key_id: str | None = None
    secret_access_key: str | None = None
    _live: _Live = field(init=False, repr=False, default_factory=_Live)

    def __post_init__(self) -> None:
        count(self.connections, "connections", low=1)
        positive(self.timeout, "timeout")
        check_endpoint_url(self.endpoint_url)
        object.__setattr__(self, "pool", ("connections", self.connections))

    @property
    def endpoint(self) -> str:
        return self._live.signing.endpoint(self)

    def prepare(self) -> None:
        """Resolve the region and find credentials (fake local ones for a loopback endpoint)."""
        self._live.signing.prepare(self)

    async def open(self) -> None:
        import aiohttp

        self.prepare_signing()
        self._live.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.connections),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            skip_auto_headers=("User-Agent",),
        )
        self._live.slots = asyncio.Semaphore(self.connections)

    def prepare_signing(self) -> None:
        """Find credentials and the endpoint, so :meth:`signed_headers` works without
        :meth:`open` (for callers with their own HTTP client, such as Locust's)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        self._live.sigv4 = (SigV4Auth, AWSRequest)
        self._live.signing.open(self)

    def signed_headers(self, body: bytes, url: str | None = None) -> dict[str, str]:
        """Headers of a SigV4-signed ``POST /events`` (or ``url``) carrying ``body``."""
        live = self._live
        SigV4Auth, AWSRequest = live.sigv4  # noqa: N806 (imported in open: classes)
        creds = live.signing.credentials.get_frozen_credentials()
        key = (creds.access_key, creds.secret_key, creds.token)
        signer = live.signers.get(key)
        if signer is None:
            live.signers = {key: SigV4Auth(creds, SIGNING_NAME, live.signing.region)}
            signer = live.signers[key]
        headers = {"Content-Type": "application/json"}
        url = url or live.signing.url
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        signer.add_auth(request)
        return dict(request.headers.items())

    async def send(self, prepared: Prepared) -> Response:
        import aiohttp

        body = prepared.body
        live = self._live
        url = live.signing.url
        if prepared.operation != "PutEvents":  # the signing URL is …/events
            url = url.removesuffix("/events") + prepared.path
        headers = self.signed_headers(body, url)
        assert live.slots is not None, "FastTarget is not open"
        async with live.slots:  # one per connection: waiting here is queueing, not service
            started = monotonic()
            try:
                async with live.session.post(url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
                    error_type = resp.headers.get("x-amzn-ErrorType", "")
            except aiohttp.ClientSSLError as e:  # not retried: a setting to fix
                fix = "trust the CA that signed it (SSL_CERT_FILE, or target='crt' with ca_file=)"
                message = tls_failure(live.signing.url, str(e), fix)
                return Response(0, TLS_ERROR, message, 0, started, monotonic(), started)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                ended = monotonic()
                message = f"{type(e).__name__}: {e}"
                if isinstance(e, asyncio.TimeoutError):  # it has no message of its own
                    message = f"no answer within {self.timeout:g} s from {live.signing.url}"
                return Response(0, CONNECTION_ERROR, message, 0, started, ended, started)
            ended = monotonic()
        if status < 300:
            return Response(status, "", "", 0, started, ended, started)
        code, message = error_fields(status, error_type, raw)
        return Response(status, code, message, 0, started, ended, started)

    async def close(self) -> None:
        if self._live.session is not None:
            await self._live.session.close()
            self._live.session = None

    def for_worker(self, index: int) -> Target:
        return self._live.signing.worker_copy(self)

    def __repr__(self) -> str:
        return f"FastTarget({self.endpoint_url or self.region or 'default'!r})"
