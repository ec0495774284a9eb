"""``personalize-sim stream`` against endpoints that misbehave, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from personalize_sim.tracker._server import fetch_stats

from ..streaming.conftest import make_requests
from .test_serve import serve
from .test_stream import last_json, write_requests

CLI = [sys.executable, "-m", "personalize_sim.cli", "stream"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_every_transport_gives_up_on_an_endpoint_that_accepts_and_never_answers(
    tmp_path, silent_endpoint
):
    """Each transport's answer timeout (30 s) ends the run: nothing ever answered, so every
    request stays pending and the message names the endpoint. boto3 once ran for 300 s (60 s
    reads, then every queued call waited its turn on the threads); the 200 s guard below only
    keeps a regression from hanging the suite."""
    src = tmp_path / "requests.jsonl"
    write_requests(src, make_requests(300))
    runs = {}
    for transport in ("boto3", "aiohttp", "crt"):
        args = ["--endpoint-url", silent_endpoint, "--transport", transport, "--rate", "100"]
        runs[transport] = subprocess.Popen(
            [*CLI, str(src), *args, "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    for transport, run in runs.items():
        try:
            _, err = run.communicate(timeout=200)
        finally:
            run.kill()
        lines = [line for line in err.splitlines() if line.startswith("personalize-sim stream:")]
        assert run.returncode == 1, (transport, err)
        assert len(lines) == 1 and "never answered" in lines[0], (transport, err)
        assert silent_endpoint in lines[0] and "Traceback" not in err, (transport, err)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("transport", ["fast", "aiohttp", "boto3"])
def test_a_run_ends_cleanly_when_the_server_closed_idle_connections(tmp_path, transport):
    """A burst opens several pooled connections; the slower tail reuses one of them, and the
    emulator closes the others once idle for 1 s. Closing those at the end used to crash the
    native transport (AWS_IO_SOCKET_CLOSED from CrtTarget.close): exit 1, a traceback, no
    summary, though the tracker had stored every event."""
    requests = make_requests(240)
    src = tmp_path / "requests.jsonl"
    write_requests(src, requests)
    db = tmp_path / "events.db"
    with serve("--port", "0", "--db", str(db), "--max-tps", "0", "--idle-timeout", "1",
               "--latency-ms", "20") as (_, line):  # fmt: skip
        url = line.split()[-1]
        run = subprocess.run(
            [*CLI, str(src), "--endpoint-url", url, "--transport", transport,
             "--steps", "500:0.4,20:2", "--no-progress"],
            capture_output=True, text=True, timeout=100, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    shown = {"fast": "crt", "aiohttp": "fast"}.get(transport, transport)  # fast: crt installed
    assert "Traceback" not in run.stderr and f"transport {shown}" in run.stderr
    summary = last_json(run.stdout)
    assert summary["delivered_requests"] == 240 and summary["balanced"]
    # a connection the server closes just as it is picked fails once and is sent again
    # (keep-alive's race: its FIN may still be in flight); one the client knows is closed is
    # never reused (tests/streaming/test_crt.py, with the idle time well past the timeout)
    assert summary["connection_errors"] <= 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "transport", ["boto3", "aiohttp", pytest.param("crt", marks=pytest.mark.slow)]
)
def test_a_certificate_that_does_not_verify_is_a_settings_error_on_every_transport(
    tmp_path, test_ca, transport
):
    """Exit 2 in one line naming --endpoint-url, nothing sent: a certificate problem is a
    setting to fix, as the native transport reported it; boto3 and aiohttp retried it as a
    connection error, then exited 1 as for an endpoint that never answered. (The CRT's TLS
    reports a failed handshake after a 10-30 s delay: that case is marked slow.)"""
    src = tmp_path / "requests.jsonl"
    write_requests(src, make_requests(20))
    tls = ("--tls-cert", test_ca["cert"], "--tls-key", test_ca["key"])
    with serve("--port", "0", "--db", str(tmp_path / "events.db"), *tls) as (_, line):
        url = line.split()[-1]
        assert url.startswith("https://")
        run = subprocess.run(
            [*CLI, str(src), "--endpoint-url", url, "--transport", transport, "--no-progress"],
            capture_output=True, text=True, timeout=100, check=False,
        )  # fmt: skip
        sent = fetch_stats(url, pinned_cert=test_ca["cert"])["PutEventsRequests"]
    assert run.returncode == 2, run.stderr
    lines = [x for x in run.stderr.splitlines() if "fake local credentials" not in x]
    assert len(lines) == 1 and lines[0].startswith("personalize-sim stream: --endpoint-url: "), (
        lines
    )
    assert "TLS with " in lines[0] and url in lines[0] and "trust the CA" in lines[0], lines[0]
    assert sent == 0
