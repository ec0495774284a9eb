"""FastTarget: SigV4 from botocore, a body pre-serialised with orjson, sent with aiohttp."""

from __future__ import annotations

import asyncio
from typing import Any

from ..._aws import (
    SIGNING_NAME,
    check_endpoint_url,
    resolve_signing,
    signing_credentials_and_url,
)
from ..._checks import count, positive
from .._retry import CONNECTION_ERROR
from .._wire import Prepared, error_fields
from .base import Response, Target, monotonic

__all__ = ["FastTarget"]


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
            started = monotonic()
            try:
                async with self._session.post(self.url, data=body, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
                    error_type = resp.headers.get("x-amzn-ErrorType", "")
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                ended = monotonic()
                message = f"{type(e).__name__}: {e}"
                return Response(0, CONNECTION_ERROR, message, 0, started, ended, started)
            ended = monotonic()
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
