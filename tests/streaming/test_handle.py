"""The handle on the real clock: notebooks' running loops, failures, processes."""

import asyncio
import json
import threading

import pytest

from personalize_sim import stream
from personalize_sim.errors import ConfigError, DeliveryError
from personalize_sim.streaming import JsonlTarget, MemoryTarget, StreamHandle, Target, open_stream

from .conftest import make_requests

pytestmark = pytest.mark.timeout(60)


def gated_target():
    gate = threading.Event()

    def respond(request, n):
        gate.wait(30)  # the first send holds the stream until the test opens the gate

    return MemoryTarget(respond), gate


def test_inside_a_running_event_loop_the_handle_returns_at_once():
    target, gate = gated_target()

    async def cell():
        handle = stream(make_requests(5), rate=1000, target=target)  # no wait=: auto
        assert isinstance(handle, StreamHandle)
        assert not handle.done  # returned while the first send is still held
        gate.set()
        return await handle.wait_async()

    summary = asyncio.run(cell())
    assert summary.complete and summary.delivered_events == 5


def test_a_script_blocks_until_the_end():
    handle = stream(make_requests(5), rate=1000, target=MemoryTarget())
    assert handle.done and handle.summary.state == "done"


def test_a_failing_target_makes_wait_raise_and_nothing_is_lost():
    class Broken(Target):
        async def open(self):
            raise ConfigError("region", None, "set region=")

    handle = stream(make_requests(3), rate=10, target=Broken(), wait=False)
    with pytest.raises(ConfigError, match="region"):
        handle.wait(timeout=30)
    assert handle.state == "failed"
    s = handle.summary
    assert s.pending_requests == 3 and s.balanced


def test_raise_for_delivery_names_what_is_missing():
    handle = stream(make_requests(4), rate=1000, wait=True,
                    target=MemoryTarget(lambda r, n: "InvalidInputException"))  # fmt: skip
    with pytest.raises(DeliveryError, match="0 of 4 events delivered; 4 dead-lettered") as info:
        handle.raise_for_delivery()
    assert info.value.summary.dead_letter_events == 4


def test_stop_from_another_thread_leaves_the_rest_pending():
    target, gate = gated_target()
    handle = stream(make_requests(50), rate=1000, target=target, wait=False)
    handle.stop()
    gate.set()
    s = handle.wait(timeout=30)
    assert s.state == "stopped"
    assert s.delivered_requests + s.pending_requests == 50
    assert s.pending_requests >= 48 and s.balanced


def test_set_rate_rejects_nonsense():
    handle = stream(make_requests(1), rate=1000, target=MemoryTarget(), wait=True)
    with pytest.raises(ValueError, match="rate"):
        handle.set_rate(0)


def test_processes_write_one_file_and_obey_stop(tmp_path):
    path = tmp_path / "out.jsonl"
    seen = []

    def listener(record):
        seen.append(record)
        if len(seen) == 10:
            box[0].stop()

    box = []
    handle = open_stream(make_requests(400), rate=100, processes=2, target=JsonlTarget(path),
                    listeners=[listener])  # fmt: skip
    box.append(handle)
    s = handle.start().wait(timeout=60)
    assert s.state == "stopped"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == s.delivered_requests >= 10
    assert s.pending_requests == 400 - s.delivered_requests > 300
    assert s.balanced
    assert {r.worker for r in seen} == {0, 1}
    assert handle.log["target_rate"].eq(100.0).all()  # the whole stream's rate, not a share


def test_processes_need_a_shareable_target_and_a_sized_source():
    with pytest.raises(TypeError, match=r"^target: .*to share across processes"):
        stream(make_requests(2), rate=10, processes=2, target=MemoryTarget())
    with pytest.raises(ConfigError, match="iterator"):
        stream(iter(make_requests(2)), rate=10, processes=2, target=JsonlTarget("x"))
