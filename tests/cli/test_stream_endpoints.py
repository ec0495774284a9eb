"""``personalize-sim stream`` against endpoints that misbehave, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ..streaming.conftest import make_requests, silent_endpoint  # noqa: F401 (a fixture)
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
    runs = {
        transport: subprocess.Popen(
            [*CLI, str(src), "--endpoint-url", silent_endpoint, "--transport", transport,
             "--rate", "100", "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        for transport in ("boto3", "aiohttp", "crt")
    }
    for transport, run in runs.items():
        try:
            out, err = run.communicate(timeout=200)
        finally:
            run.kill()
        lines = [line for line in err.splitlines() if line.startswith("personalize-sim stream:")]
        assert run.returncode == 1, (transport, err)
        assert len(lines) == 1 and "never answered" in lines[0], (transport, err)
        assert silent_endpoint in lines[0] and "Traceback" not in err, (transport, err)
