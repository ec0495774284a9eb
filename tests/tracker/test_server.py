"""The HTTP server: uvicorn on the fast or the standard loop and parser, and its /stats reader."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from typing import Any

import pytest

from personalize_sim._aws import boto3_client
from personalize_sim.errors import ConfigError
from personalize_sim.tracker import TrackerConfig
from personalize_sim.tracker._readers import read_events
from personalize_sim.tracker._server import fetch_stats
from personalize_sim.tracker._uvicorn import installed as _installed
from personalize_sim.tracker.internal import TrackerServer

from .conftest import event, request


@pytest.mark.parametrize(("loop", "http"), [("asyncio", "h11"), ("auto", "auto")])
def test_put_events_round_trip_on_the_chosen_loop_and_parser(tmp_path, loop, http):
    server = TrackerServer(
        TrackerConfig(max_tps=0), db_path=tmp_path / "e.db", loop=loop, http=http
    )
    ready = threading.Event()
    seen: dict[str, Any] = {}

    def on_ready(url: str) -> None:
        seen["loop"] = type(asyncio.get_running_loop()).__module__
        seen["parser"] = server._server.config.http_protocol_class.__mro__[1].__name__
        ready.set()

    thread = threading.Thread(target=server.run, kwargs={"on_ready": on_ready}, daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the server did not start"
        client = boto3_client(
            region="us-east-1",
            endpoint_url=server.url,
            keys=("testing", "testing"),
            retries={"total_max_attempts": 1},
        )
        response = client.put_events(**request([event(0), event(1)]))
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert fetch_stats(server.url)["accepted_events"] == 2
    finally:
        server.stop()
        thread.join(30)
    assert not thread.is_alive()
    assert read_events(tmp_path / "e.db")["EVENT_ID"].tolist() == ["e-0", "e-1"]
    if loop == "asyncio":
        assert (server.loop, server.http) == ("asyncio", "h11")
        assert seen["loop"].startswith("asyncio")
        assert seen["parser"] == "H11Protocol"
    else:  # auto: uvloop and httptools when installed (the "fast" extra), else the standard ones
        fast = importlib.util.find_spec("uvloop") is not None
        assert server.loop == ("uvloop" if fast else "asyncio")
        assert seen["loop"].startswith(server.loop)
        fast = importlib.util.find_spec("httptools") is not None
        assert server.http == ("httptools" if fast else "h11")
        assert seen["parser"] == ("HttpToolsProtocol" if fast else "H11Protocol")


def test_auto_falls_back_to_the_standard_implementation_when_the_fast_one_is_missing():
    assert _installed("auto", "loop", ("no_such_module_here", "asyncio")) == "asyncio"
    assert _installed("auto", "http", ("h11", "no_such_module_here")) == "h11"
    assert _installed("h11", "http", ("httptools", "h11")) == "h11"


def test_an_unknown_loop_or_parser_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"^loop: got 'trio'; one of 'auto', 'uvloop', 'asyncio'"):
        TrackerServer(TrackerConfig(), db_path=tmp_path / "e.db", loop="trio")
    with pytest.raises(ConfigError, match=r"^http: got 'h2'; one of 'auto', 'httptools', 'h11'"):
        TrackerServer(TrackerConfig(), db_path=tmp_path / "e.db", http="h2")


def test_a_server_stopped_before_it_runs_releases_its_socket(tmp_path):
    server = TrackerServer(TrackerConfig(), db_path=tmp_path / "e.db")
    server.stop()
    server.run()
    assert server.socket.fileno() == -1
