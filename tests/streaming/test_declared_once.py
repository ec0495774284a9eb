"""Declared once: the stream's arguments (``open_stream``'s, shown by ``stream``) and each
transport's settings (its frozen dataclass fields, copied whole for worker processes)."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
import subprocess
import sys

import pytest

from personalize_sim import stream
from personalize_sim.errors import ConfigTypeError
from personalize_sim.streaming import (
    Boto3Target,
    CrtTarget,
    FastTarget,
    JsonlTarget,
    MemoryTarget,
    open_stream,
)
from personalize_sim.streaming._transports.base import settings_of
from personalize_sim.tracker import LocalTracker

from .conftest import make_requests

pytestmark = pytest.mark.timeout(120)

LOOPBACK = "http://127.0.0.1:9"


def test_stream_shows_open_streams_arguments_then_its_own():
    shared = list(inspect.signature(open_stream).parameters.values())
    own = list(inspect.signature(stream).parameters.values())
    assert own[: len(shared)] == shared  # same names, kinds, defaults and annotations
    assert [p.name for p in own[len(shared) :]] == ["dashboard", "wait"]


def test_stream_passes_open_streams_arguments_through(tmp_path):
    seen = []
    handle = stream(make_requests(3), rate=1000, target=MemoryTarget(), listeners=[seen.append],
                    max_records=1, checkpoint=tmp_path / "cp", wait=True)  # fmt: skip
    assert len(seen) == 3 and len(handle.log) == 1
    assert len((tmp_path / "cp").read_text().splitlines()) == 1 + 3  # header, 3 ids


def test_an_unknown_argument_names_stream():
    with pytest.raises(TypeError, match=r"stream\(\): got an unexpected keyword .*'speed'"):
        stream(make_requests(1), rate=10, speed=3)


def every_setting_changed(cls, **fixed):
    """An instance of ``cls`` with every setting away from its default (so a setting the
    worker copy forgot would show), derived from the fields: new settings are covered."""
    values = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        default = f.default
        if isinstance(default, bool):
            values[f.name] = not default
        elif isinstance(default, int | float):
            values[f.name] = default * 2
        else:
            values[f.name] = f"{f.name}-value"
    return cls(**{**values, **fixed})


@pytest.mark.parametrize(
    ("cls", "fixed"),
    [
        (FastTarget, {"endpoint_url": LOOPBACK}),
        (CrtTarget, {"endpoint_url": LOOPBACK, "ca_file": None}),
        (Boto3Target, {"endpoint_url": LOOPBACK, "client": None}),
        (JsonlTarget, {"path": "dry.jsonl"}),
    ],
)
def test_a_worker_copy_has_every_setting_and_nothing_live(cls, fixed):
    target = every_setting_changed(cls, **fixed)
    target.prepare()
    copy = pickle.loads(pickle.dumps(target.for_worker(1)))  # what a worker process gets
    assert type(copy) is cls and copy is not target
    assert settings_of(copy) == settings_of(target)
    assert copy._live == type(copy._live)()  # fresh: nothing acquired crosses over


def test_keys_found_by_the_provider_chain_never_reach_a_worker(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID-FOUND-BY-THE-CHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret-never-copied")
    for target in (
        FastTarget(endpoint_url=LOOPBACK),
        CrtTarget(endpoint_url=LOOPBACK),
        Boto3Target(endpoint_url=LOOPBACK),
    ):
        target.prepare()
        copy = target.for_worker(0)
        assert (copy.access_key_id, copy.secret_access_key) == (None, None), target
        assert b"real-secret-never-copied" not in pickle.dumps(copy)


def test_without_any_keys_a_worker_gets_the_fake_local_pair(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for target in (FastTarget(endpoint_url=LOOPBACK), Boto3Target(endpoint_url=LOOPBACK)):
        target.prepare()
        copy = target.for_worker(0)
        assert (copy.access_key_id, copy.secret_access_key) == ("testing", "testing")


def test_a_live_boto3_client_is_refused_for_worker_processes():
    with LocalTracker(max_tps=None, process=False) as tracker:
        target = Boto3Target(tracker.client())
        with pytest.raises(ConfigTypeError, match="rather than a live client"):
            stream(make_requests(4), rate=10, processes=2, target=target, wait=True)
        assert tracker.stats()["PutEventsRequests"] == 0


def test_settings_are_frozen_and_checked_again_on_a_copy():
    target = FastTarget(endpoint_url=LOOPBACK, connections=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.connections = 8  # type: ignore[misc]
    with pytest.raises(ValueError, match="connections"):
        dataclasses.replace(target, connections=0)
    assert target.pool == ("connections", 4)


@pytest.mark.slow
def test_the_default_boto3_transport_streams_from_worker_processes(tmp_path):
    """``--processes 2`` with the default transport: each worker gets a boto3 target built
    from the same settings (a thread-local in it once made the copy unpicklable)."""
    requests = make_requests(60, events=2)
    src = tmp_path / "requests.jsonl"
    src.write_text("".join(f"{__import__('json').dumps(r)}\n" for r in requests))
    with LocalTracker(max_tps=None, process=True) as tracker:
        out = subprocess.run(
            [sys.executable, "-m", "personalize_sim.cli", "stream", str(src), "--endpoint-url",
             tracker.endpoint_url, "--processes", "2", "--rate", "200", "--no-progress"],
            capture_output=True, text=True, timeout=110, check=False,
        )  # fmt: skip
        stored = sorted(tracker.events()["EVENT_ID"])
    assert out.returncode == 0, out.stderr
    assert "transport boto3" in out.stderr
    assert stored == sorted(e["eventId"] for r in requests for e in r["eventList"])
