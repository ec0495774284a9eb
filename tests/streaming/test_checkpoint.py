"""The checkpoint names its input and tracking id, and refuses any file that is not its own."""

from __future__ import annotations

import json

import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.errors import ConfigError
from personalize_sim.streaming import MemoryTarget, open_stream
from personalize_sim.streaming._checkpoint import Checkpoint, fingerprint
from personalize_sim.streaming._wire import request_id

from .conftest import make_requests

pytestmark = pytest.mark.timeout(60)


def run(requests, path, **kw):
    target = MemoryTarget()
    handle = stream(requests, rate=1000, target=target, clock=VirtualClock(), checkpoint=path,
                    wait=True, **kw)  # fmt: skip
    return handle.summary, target


def refused(requests, path, match, **kw):
    before = path.read_bytes() if path.is_file() else None
    target = MemoryTarget()
    with pytest.raises(ConfigError, match=match) as info:
        stream(requests, rate=1000, target=target, clock=VirtualClock(), checkpoint=path,
               wait=True, **kw)  # fmt: skip
    assert target.requests == []  # nothing sent
    assert (path.read_bytes() if path.is_file() else None) == before  # nothing written
    assert "\n" not in str(info.value)  # one line
    return str(info.value)


def test_a_new_checkpoint_starts_with_a_header_naming_its_input_and_tracker(tmp_path):
    path = tmp_path / "cp"
    requests = make_requests(10)
    s, _ = run(requests, path)
    assert s.delivered_requests == 10
    header, *ids = path.read_text().splitlines()
    header = json.loads(header)
    assert header["personalize_sim_checkpoint"] == 1
    assert header["tracking_id"] == "tid"
    assert header["requests"] == 10
    assert header["input"] == fingerprint(requests, "tid")[0].fingerprint
    assert sorted(ids) == sorted(request_id(r) for r in requests)


def test_resume_skips_what_was_delivered_and_sends_the_rest_once(tmp_path):
    path = tmp_path / "cp"
    requests = make_requests(10, events=2)

    def listener(record):
        if record.attempt == 1 and record.sent >= 0.25:
            box[0].stop()

    box = []
    first = open_stream(requests, rate=10, target=MemoryTarget(), clock=VirtualClock(),
                        checkpoint=str(path), listeners=[listener])  # fmt: skip
    box.append(first)
    assert first.start().wait(timeout=30).delivered_requests == 4
    s, target = run(requests, path)
    assert (s.resumed_requests, s.delivered_requests, s.complete) == (4, 6, True)
    assert [r["eventList"][0]["eventId"] for r in target.requests] == [
        f"e{i}-0" for i in range(4, 10)
    ]
    assert len(path.read_text().splitlines()) == 1 + 10  # the header once, every id once


def test_the_input_file_itself_is_refused_and_left_byte_for_byte(tmp_path):
    events = tmp_path / "ev.csv"
    events.write_text("USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP\nu1,i1,View,1700000000\n")
    message = refused(make_requests(5), events, "not one .*first line is 'USER_ID,ITEM_ID")
    assert "Pass a new path" in message


def test_binary_garbage_is_refused_with_a_clear_error(tmp_path):
    path = tmp_path / "cp.parquet"
    path.write_bytes(b"PAR1\x15\x04\x15\xff\xfe\n\x00\x01" * 20)
    refused(make_requests(5), path, r"binary data: byte \d+ is not UTF-8")


def test_crlf_is_refused_not_silently_ignored(tmp_path):
    path = tmp_path / "cp"
    run(make_requests(5), path)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    refused(make_requests(5), path, r"CRLF \(Windows\) line endings.*dos2unix")


def test_a_checkpoint_of_another_input_is_refused(tmp_path):
    path = tmp_path / "cp"
    run(make_requests(5), path)
    refused(make_requests(6), path, r"another input \(5 requests; this one has 6 requests")
    other = make_requests(5)
    other[2]["eventList"][0]["eventId"] = "changed"
    refused(other, path, "another input")


def test_a_checkpoint_of_another_tracker_is_refused(tmp_path):
    path = tmp_path / "cp"
    run(make_requests(5), path)
    refused(make_requests(5), path, "tracking id 'other'.*written for 'tid'", tracking_id="other")


def test_a_header_less_checkpoint_of_an_older_version_is_refused(tmp_path):
    path = tmp_path / "cp"
    path.write_text("".join(request_id(r) + "\n" for r in make_requests(3)))
    refused(make_requests(5), path, "older personalize-sim")


def test_an_edited_id_line_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "cp"
    run(make_requests(5), path)
    path.write_text(path.read_text() + "not an id\n")
    refused(make_requests(5), path, "line 7 is b'not an id'")


def test_a_folder_or_a_pipe_is_refused(tmp_path):
    import os

    refused(make_requests(2), tmp_path, "a regular file")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    refused(make_requests(2), fifo, "a regular file")


def test_a_torn_last_line_is_ignored_and_cut_before_appending(tmp_path):
    path = tmp_path / "cp"
    requests = make_requests(6)
    ids = [request_id(r) for r in requests]
    identity, _ = fingerprint(requests, "tid")
    with Checkpoint(path, identity) as cp:
        for i in ids[:3]:
            cp.add(i)
    path.write_bytes(path.read_bytes() + ids[3][:7].encode())  # killed mid-write
    assert Checkpoint(path, identity).done == set(ids[:3])
    s, target = run(requests, path)
    assert (s.resumed_requests, s.delivered_requests) == (3, 3)
    assert len(target.requests) == 3
    _, *lines = path.read_text().splitlines()
    assert sorted(lines) == sorted(ids)  # the torn piece is gone, every id on its own line


def test_an_iterator_is_fingerprinted_by_its_first_requests_and_loses_none(tmp_path):
    path = tmp_path / "cp"
    requests = make_requests(100)
    s, target = run(iter(requests), path)
    assert s.delivered_requests == 100 and len(target.requests) == 100
    assert json.loads(path.read_text().splitlines()[0])["requests"] is None
    s, target = run(iter(requests), path)
    assert (s.resumed_requests, len(target.requests)) == (100, 0)
    other = make_requests(100)
    other[0]["eventList"][0]["eventId"] = "changed"
    refused(iter(other), path, "another input")


def test_the_fingerprint_reads_a_sample_not_the_whole_input():
    class Counting(list):
        reads = 0

        def __getitem__(self, i):
            Counting.reads += 1
            return super().__getitem__(i)

    requests = Counting(make_requests(5000))
    identity, rest = fingerprint(requests, None)
    assert rest is requests and identity.tracking_id == "tid" and identity.requests == 5000
    assert Counting.reads <= 64


def test_worker_processes_append_to_the_checkpoint_the_parent_started(tmp_path):
    from personalize_sim.streaming import JsonlTarget

    path, out = tmp_path / "cp", tmp_path / "out.jsonl"
    requests = make_requests(40)
    first = stream(requests, rate=400, processes=2, target=JsonlTarget(out), checkpoint=path,
                   wait=True)  # fmt: skip
    assert first.summary.delivered_requests == 40
    header, *ids = path.read_text().splitlines()
    assert json.loads(header)["requests"] == 40  # one header, written before the workers
    assert sorted(ids) == sorted(request_id(r) for r in requests)
    again = stream(requests, rate=400, processes=2, target=JsonlTarget(out), checkpoint=path,
                   wait=True)  # fmt: skip
    assert again.summary.resumed_requests == 40 and again.summary.delivered_requests == 0
    assert len(out.read_text().splitlines()) == 40  # nothing sent twice
