"""The seam with uvicorn's private classes still holds on the uvicorn installed.

``tracker/_uvicorn.py`` subclasses ``HttpToolsProtocol`` / ``H11Protocol`` and
``uvicorn.Server``, which uvicorn does not promise to keep; pyproject.toml pins the range
tested. Each check here fails with a message naming what changed, so a new release that
breaks the seam is seen at once, not as a hung or unguarded server.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import inspect
import re
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from personalize_sim.tracker._uvicorn import (
    _PROTOCOLS,
    HTTP_PARSERS,
    RELIED_ON,
    guarded_protocol,
    new_event_loop,
    protocol_class,
    uvicorn_config,
    uvicorn_server,
)

VERSION = importlib.metadata.version("uvicorn")
PARSERS = [http for http in HTTP_PARSERS if importlib.util.find_spec(http) is not None]


def changed(what: str) -> str:
    return (
        f"uvicorn {VERSION} changed {what}, which personalize_sim/tracker/_uvicorn.py relies "
        "on: adapt the seam, or keep uvicorn below this release in pyproject.toml"
    )


@pytest.mark.parametrize("http", PARSERS)
def test_the_protocol_classes_are_where_the_seam_looks(http):
    module, name = _PROTOCOLS[http]
    try:
        cls = protocol_class(http)
    except (ImportError, AttributeError) as exc:
        pytest.fail(changed(f"{module}.{name} ({exc})"))
    for method in RELIED_ON["protocol methods"]:
        assert callable(getattr(cls, method, None)), changed(f"{name}.{method}")
    assert issubclass(cls, asyncio.Protocol), changed(f"{name}: no longer an asyncio.Protocol")


def test_the_server_class_has_what_the_seam_overrides():
    import uvicorn

    config = uvicorn_config(
        _app, http=PARSERS[0], header_timeout=1.0, idle_timeout=1.0, tls=(None, None)
    )  # a TypeError here: a keyword of uvicorn.Config is gone
    server = uvicorn_server(config, on_ready=lambda: None)
    for method in RELIED_ON["server methods"]:
        assert callable(getattr(uvicorn.Server, method, None)), changed(f"Server.{method}")
    assert "sockets" in inspect.signature(uvicorn.Server.startup).parameters, changed(
        "Server.startup(sockets=)"
    )
    for attribute in RELIED_ON["server attributes"]:
        assert hasattr(server, attribute), changed(f"Server.{attribute}")
    assert getattr(config.http, "__name__", None) == "GuardedProtocol", changed(
        "Config(http=<a protocol class>)"
    )


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize("http", PARSERS)
def test_the_state_the_header_guard_reads_behaves_as_it_did(http):
    """Before a connection's first request ``cycle`` is None; once a response is sent,
    ``cycle.response_complete`` is True; ``transport`` is the connection's."""
    seen: list[Any] = []

    class Recording(guarded_protocol(http, 10.0)):  # type: ignore[misc]
        def data_received(self, data: bytes) -> None:
            cycle = getattr(self, "cycle", "missing")
            seen.append(cycle if cycle is None else getattr(cycle, "response_complete", "missing"))
            seen.append(hasattr(getattr(self, "transport", None), "write"))
            super().data_received(data)

    config = uvicorn_config(_app, http=http, header_timeout=10, idle_timeout=5, tls=(None, None))
    config.http = Recording
    ready = threading.Event()
    server = uvicorn_server(config, on_ready=ready.set)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop = new_event_loop("asyncio")
    thread = threading.Thread(
        target=loop.run_until_complete, args=(server.serve(sockets=[sock]),), daemon=True
    )
    thread.start()
    try:
        assert ready.wait(30), changed("Server.startup: on_ready was never called")
        with socket.create_connection(sock.getsockname(), timeout=10) as client:
            for _ in range(2):
                client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                answer = b""
                while not answer.endswith(b"ok"):
                    answer += client.recv(4096)
    finally:
        server.should_exit = True
        thread.join(30)
        loop.close()
    assert seen[0] is None, changed(f"{http} protocol: cycle before the first request")
    assert seen[2] is True, changed(f"{http} protocol: cycle.response_complete after a response")
    assert seen[1] is True and seen[3] is True, changed(f"{http} protocol: transport")


def test_the_installed_uvicorn_is_in_the_pinned_range():
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    floor, ceiling = re.search(r'"uvicorn>=([\d.]+),<([\d.]+)"', text).groups()  # type: ignore[union-attr]

    def parts(version: str) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", version)[:3])

    assert parts(floor) <= parts(VERSION) < parts(ceiling), (
        f"uvicorn {VERSION} is outside the tested range >={floor},<{ceiling}"
    )
