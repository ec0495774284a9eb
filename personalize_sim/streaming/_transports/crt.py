"""The native transport: SigV4 and HTTP/1.1 on the AWS Common Runtime (``awscrt``).

:class:`CrtTarget` signs each ``POST /events`` with the CRT's SigV4 (signing name
``personalize``, the same credentials and region as :class:`~.fast.FastTarget`) and sends
it on a pool of CRT HTTP/1.1 connections, about a tenth of boto3's client CPU per request
(``benchmarks/stream.py``). The body is the same pre-serialised JSON as the other
transports', the signed headers the same as botocore's (``content-type;host;x-amz-date``).

The CRT completes its futures on its own I/O thread; :class:`_Bridge` hands them to the event
loop the target was opened on (one wake-up per batch of completions, not one per request), so
the target runs in the stream's loop and in a notebook's running one alike. Like every target
it never retries: a dropped or refused connection is a ``ConnectionError`` answer, which the
stream's retry policy retries and counts, and the next request opens a new connection. A
certificate that does not verify is refused, naming the endpoint; only
``insecure_local_tls=True``, for a loopback endpoint, turns verification off.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import importlib.util
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..._aws import SIGNING_NAME, check_endpoint_url, is_loopback
from ..._checks import count, instance, positive
from ...errors import ConfigError
from .._retry import CONNECTION_ERROR, TLS_ERROR
from .._wire import Prepared, error_fields
from .base import Response, Target, monotonic, tls_failure
from .signing import Signing

__all__ = ["TLS_ERROR", "CrtTarget", "crt_available"]


def crt_available() -> bool:
    """True when ``awscrt`` can be imported (``pip install personalize-sim[crt]``)."""
    return importlib.util.find_spec("awscrt") is not None


@dataclass
class _Live:
    """What a CrtTarget acquires: resolved signing, the pool, the bridge to its loop."""

    signing: Signing = field(default_factory=Signing)
    config: tuple[tuple, Any] | None = None  # (frozen credentials, AwsSigningConfig)
    idle: list[Any] = field(default_factory=list)  # open connections, most recently used last
    slots: asyncio.Semaphore | None = None
    bridge: Any = None  # a _Bridge to the loop it was opened on
    connector: Any = None  # a _Connector: how to open connections (made in open)


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CrtTarget(Target):
    """Signed PutEvents on ``awscrt``: CRT SigV4, a pool of CRT HTTP/1.1 connections.

    Settings as :class:`~.fast.FastTarget`'s: credentials and region from botocore's
    provider chain (``profile``, environment, config files, roles; refreshable ones are
    re-read per request), explicit keys first; at most ``connections`` requests on the wire.
    ``connect_timeout`` bounds opening a connection (TCP and TLS), ``timeout`` an answer.
    ``ca_file`` is a PEM bundle to trust instead of the system's (a local test CA).
    """

    name = "crt"

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    connections: int = 64
    timeout: float = 30.0
    connect_timeout: float = 10.0
    access_key_id: str | None = None
    secret_access_key: str | None = None
    ca_file: str | None = None
    insecure_local_tls: bool = False
    _live: _Live = field(init=False, repr=False, default_factory=_Live)

    def __post_init__(self) -> None:
        count(self.connections, "connections", low=1)
        positive(self.timeout, "timeout")
        positive(self.connect_timeout, "connect_timeout")
        instance(self.insecure_local_tls, "insecure_local_tls", bool, "True or False")
        check_endpoint_url(self.endpoint_url)
        if self.insecure_local_tls and not is_loopback(self.endpoint_url):
            raise ConfigError(
                "insecure_local_tls", self.insecure_local_tls,
                "False: certificate checks can be turned off only for a loopback endpoint "
                "(local testing); give ca_file= to trust a private CA instead",
            )  # fmt: skip
        if self.ca_file is not None and not os.path.isfile(self.ca_file):
            raise ConfigError("ca_file", self.ca_file, "the path of an existing PEM file of CAs")
        object.__setattr__(self, "pool", ("connections", self.connections))

    @property
    def endpoint(self) -> str:
        return self._live.signing.endpoint(self)

    def prepare(self) -> None:
        """Check that awscrt is installed, resolve the region and find credentials."""
        if not crt_available():
            raise ConfigError(
                "target", "crt",
                "awscrt installed for the native transport (pip install 'personalize-sim[crt]'), "
                "or target='fast', which uses aiohttp without it",
            )  # fmt: skip
        self._live.signing.prepare(self)

    async def open(self) -> None:
        self.prepare()
        live = self._live
        live.signing.open(self)
        insecure = self.insecure_local_tls
        live.connector = _Connector(live.signing.url, self.connect_timeout, self.ca_file, insecure)
        live.slots = asyncio.Semaphore(self.connections)
        live.bridge = _Bridge(asyncio.get_running_loop())
        if live.connector.tls:  # a certificate that does not verify fails here, naming the endpoint
            connection, error = await self._connect()
            if error is not None and error[0] == TLS_ERROR:
                raise ConfigError("endpoint_url", self.endpoint_url, error[1])
            if connection is not None:
                live.idle.append(connection)

    def signing_config(self) -> Any:
        """The CRT signing config for the current credentials (reused while they last)."""
        from awscrt.auth import AwsCredentialsProvider, AwsSigningConfig

        live = self._live
        frozen = live.signing.credentials.get_frozen_credentials()
        key = (frozen.access_key, frozen.secret_key, frozen.token)
        if live.config is None or live.config[0] != key:
            provider = AwsCredentialsProvider.new_static(*key)
            config = AwsSigningConfig(
                credentials_provider=provider, region=live.signing.region, service=SIGNING_NAME
            )
            live.config = (key, config)
        return live.config[1]

    def signed_request(self, body: bytes, path: str = "/events") -> Any:
        """A SigV4-signed ``POST /events`` (or ``path``) carrying ``body``, as an awscrt
        ``HttpRequest`` (``Content-Length`` is added after signing, as botocore leaves it
        unsigned)."""
        from awscrt.auth import aws_sign_request
        from awscrt.http import HttpHeaders, HttpRequest

        crt = self._live.connector
        headers = HttpHeaders([("host", crt.host_header), ("content-type", "application/json")])
        where = crt.path if path == "/events" else crt.path.removesuffix("/events") + path
        request = HttpRequest("POST", where, headers, io.BytesIO(body))
        aws_sign_request(request, self.signing_config()).result()  # static keys: done at once
        headers.add("content-length", str(len(body)))
        return request

    async def send(self, prepared: Prepared) -> Response:
        request = self.signed_request(prepared.body, prepared.path)
        slots = self._live.slots
        assert slots is not None, "CrtTarget is not open"
        async with slots:  # one per connection: waiting here is queueing, not service
            started = monotonic()
            connection, error = await self._connection()
            if connection is None:
                assert error is not None
                return Response(0, error[0], error[1], 0, started, monotonic(), started)
            status, error_type, raw, error = await self._exchange(connection, request)
            ended = monotonic()
        if error is not None:
            return Response(0, error[0], error[1], 0, started, ended, started)
        if status < 300:
            return Response(status, "", "", 0, started, ended, started)
        code, message = error_fields(status, error_type, raw)
        return Response(status, code, message, 0, started, ended, started)

    async def _connection(self) -> tuple[Any, tuple[str, str] | None]:
        """An open idle connection, or a new one (a dropped one is simply not reused)."""
        idle = self._live.idle
        while idle:
            connection = idle.pop()
            if connection.is_open():
                return connection, None
        return await self._connect()

    async def _connect(self) -> tuple[Any, tuple[str, str] | None]:
        live = self._live
        try:
            return await live.bridge.wrap(live.connector.connect()), None
        except Exception as e:  # awscrt raises AwsCrtError: refused, unreachable, TLS…
            return None, live.connector.describe(e, "connecting to")

    async def _exchange(self, connection: Any, request: Any) -> tuple[int, str, bytes, Any]:
        """Send on ``connection``; (status, x-amzn-ErrorType, body, error or None)."""
        answer: dict[str, Any] = {}
        chunks: list[bytes] = []

        def on_response(http_stream: Any, status_code: int, headers: Any, **_: Any) -> None:
            answer["headers"] = headers

        def on_body(http_stream: Any, chunk: bytes, **_: Any) -> None:
            chunks.append(chunk)

        late: list[bool] = []

        def give_up() -> None:  # a late answer is abandoned with its connection
            late.append(True)
            connection.close()

        live = self._live
        timer = asyncio.get_running_loop().call_later(self.timeout, give_up)
        try:
            stream = connection.request(request, on_response, on_body)
            stream.activate()
            status = await live.bridge.wrap(stream.completion_future)
        except asyncio.CancelledError:  # the answer would come to nobody: drop the connection
            connection.close()
            raise
        except Exception as e:  # the connection dropped, was reset, or timed out
            connection.close()
            what = f"no answer within {self.timeout:g} s from" if late else "sending to"
            return 0, "", b"", live.connector.describe(e, what)
        finally:
            timer.cancel()
        if connection.is_open():
            live.idle.append(connection)
        error_type = ""
        if status >= 300:
            error_type = next(
                (v for k, v in answer.get("headers", ()) if k.lower() == "x-amzn-errortype"), ""
            )
        return status, error_type, b"".join(chunks), None

    async def close(self) -> None:
        live = self._live
        idle, live.idle = live.idle, []
        closing = [asyncio.wrap_future(connection.close()) for connection in idle]
        # a connection the server closed while it was idle (its keep-alive timeout) completes
        # its shutdown with the reason, AWS_IO_SOCKET_CLOSED: expected, nothing was lost
        await asyncio.gather(*closing, return_exceptions=True)

    def for_worker(self, index: int) -> Target:
        return self._live.signing.worker_copy(self)

    def __repr__(self) -> str:
        return f"CrtTarget({self.endpoint_url or self.region or 'default'!r})"


class _Bridge:
    """``concurrent.futures.Future``s completed on the CRT's thread, as asyncio futures of
    ``loop``: completions queue up and one ``call_soon_threadsafe`` delivers each batch."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._done: collections.deque[tuple[asyncio.Future, Any]] = collections.deque()
        self._scheduled = False

    def wrap(self, future: Any) -> asyncio.Future:
        waiter = self.loop.create_future()
        future.add_done_callback(lambda f: self._complete(waiter, f))
        return waiter

    def _complete(self, waiter: asyncio.Future, future: Any) -> None:  # on the CRT's thread
        self._done.append((waiter, future))
        if not self._scheduled:
            self._scheduled = True
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        self._scheduled = False  # before draining: a completion from now on schedules again
        done = self._done
        while done:
            waiter, future = done.popleft()
            if waiter.cancelled():
                continue
            error = future.exception()
            if error is None:
                waiter.set_result(future.result())
            else:
                waiter.set_exception(error)


class _Connector:
    """How to open a CRT connection to ``url``: its event loop, socket and TLS options."""

    def __init__(self, url: str, connect_timeout: float, ca_file: str | None, insecure: bool):
        from awscrt import io as crt_io

        parts = urlsplit(url)
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.loopback = is_loopback(url)
        self.port = parts.port or (443 if self.tls else 80)
        default_port = self.port == (443 if self.tls else 80)
        self.host_header = parts.netloc.rsplit("@", 1)[-1]
        if default_port and parts.port is not None:  # what botocore sends: no default port
            self.host_header = self.host_header.rsplit(":", 1)[0]
        self.path = parts.path or "/"
        # one I/O thread: enough for thousands of requests/s, and predictable CPU
        group = crt_io.EventLoopGroup(1)
        self.bootstrap = crt_io.ClientBootstrap(group, crt_io.DefaultHostResolver(group))
        self.socket = crt_io.SocketOptions()
        self.socket.connect_timeout_ms = max(1, math.ceil(connect_timeout * 1000))
        self.tls_context: Any = None
        if self.tls:
            options = crt_io.TlsContextOptions()
            if ca_file is not None:
                options.override_default_trust_store_from_path(None, str(ca_file))
            options.verify_peer = not insecure
            self.tls_context = crt_io.ClientTlsContext(options)

    def connect(self) -> Any:
        """A ``concurrent.futures.Future`` of a new HttpClientConnection."""
        from awscrt.http import HttpClientConnection

        tls = None
        if self.tls_context is not None:
            tls = self.tls_context.new_connection_options()
            tls.set_server_name(self.host)
        return HttpClientConnection.new(
            self.host, self.port, bootstrap=self.bootstrap, socket_options=self.socket,
            tls_connection_options=tls,
        )  # fmt: skip

    def describe(self, error: Exception, doing: str) -> tuple[str, str]:
        """(error code, message naming the endpoint) for an exception from awscrt."""
        name = getattr(error, "name", type(error).__name__)
        why = f"{name}: {getattr(error, 'message', '') or error}"
        if "TLS" in name or "CERT" in name or "X509" in name:
            hint = "; for a loopback test server only, insecure_local_tls=True" * self.loopback
            fix = f"trust the CA that signed it (ca_file={hint})"
            return TLS_ERROR, tls_failure(self.url, why, fix)
        return CONNECTION_ERROR, f"{why}, {doing} {self.url}"
