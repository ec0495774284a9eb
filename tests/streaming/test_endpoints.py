"""First runs as a user makes them: no credentials, a wrong URL, a tracker that goes away.

The CLI cases run the installed ``personalize-sim`` in a subprocess with every ``AWS_*``
variable cleared and the AWS config files pointed at empty files, as on a fresh machine.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from personalize_sim import stream
from personalize_sim.clock import VirtualClock
from personalize_sim.errors import ConfigError, DeliveryError
from personalize_sim.streaming import Boto3Target, CrtTarget, FastTarget, RetryPolicy
from personalize_sim.tracker import LocalTracker

from .conftest import make_requests

pytestmark = pytest.mark.timeout(120)

SCRIPT = Path(sys.executable).with_name("personalize-sim")
REMOTE = "http://tracker.invalid:8000"  # not loopback (and never resolvable, if contacted)


def target_for(kind: str, url: str, **kw):
    if kind == "fast":
        return FastTarget(endpoint_url=url, **kw)
    return Boto3Target(endpoint_url=url, region="us-east-1", **kw)


@pytest.fixture
def no_credentials(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


# -- in Python -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["boto3", "fast"])
def test_a_loopback_endpoint_without_credentials_uses_fake_local_ones_and_says_so(
    kind, no_credentials, caplog
):
    requests = make_requests(5)
    with LocalTracker(max_tps=None, process=False) as tracker:
        with caplog.at_level(logging.WARNING, logger="personalize_sim"):
            handle = stream(requests, rate=500, target=target_for(kind, tracker.endpoint_url),
                            tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        stored = len(tracker.events())
    assert handle.summary.complete and stored == 5
    notes = [r.getMessage() for r in caplog.records if "fake local credentials" in r.getMessage()]
    assert len(notes) == 1 and tracker.endpoint_url in notes[0]


@pytest.mark.parametrize("kind", ["boto3", "fast"])
def test_a_remote_endpoint_without_credentials_is_refused_before_the_first_send(
    kind, no_credentials
):
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID") as info:
        stream(make_requests(3), rate=100, target=target_for(kind, REMOTE), wait=True)
    assert info.value.field == "credentials" and REMOTE in str(info.value)


def test_a_client_of_your_own_without_credentials_is_refused_before_the_first_send(
    no_credentials,
):
    import boto3

    session = boto3.session.Session()  # not boto3's default session, which may hold old keys
    client = session.client("personalize-events", endpoint_url=REMOTE, region_name="us-east-1")
    with pytest.raises(ConfigError, match="no credentials"):
        stream(make_requests(3), rate=100, target=client, wait=True)


@pytest.mark.parametrize(("kind", "max_attempts"), [("boto3", None), ("fast", None), ("fast", 2)])
def test_an_endpoint_that_never_answered_ends_the_run_within_seconds_naming_it(
    kind, max_attempts, refused_url
):
    url = refused_url
    clock = VirtualClock()  # the run's own seconds, which a busy host does not stretch
    handle = stream(make_requests(20), rate=100, target=target_for(kind, url), rng=0,
                    retry=RetryPolicy(max_attempts=max_attempts), clock=clock,
                    wait=False)  # fmt: skip
    with pytest.raises(DeliveryError, match="never answered") as info:
        handle.wait(timeout=30)
    # it ends once refused for NEVER_ANSWERED_S (2 s), not at the retry deadline (120 s)
    assert clock.now() < 8
    assert url in str(info.value)
    s = handle.summary
    assert s.dead_letter_requests == 0 and s.delivered_requests == 0  # nothing given up silently
    assert s.pending_requests == s.input_requests and s.balanced
    assert s.connection_errors > 0 and s.achieved_rate != s.achieved_rate  # NaN: nothing went out


@pytest.mark.parametrize("kind", ["boto3", "aiohttp", "crt"])
def test_an_endpoint_that_accepts_and_never_answers_ends_the_run_at_the_answer_timeout(
    kind, silent_endpoint
):
    """No answer within ``timeout`` and none ever: the run ends with every request pending,
    without waiting for the other attempts on the wire (boto3 had no timeout of its own, and
    waited 60 s per read for every queued call)."""
    make = {"boto3": Boto3Target, "aiohttp": FastTarget, "crt": CrtTarget}[kind]
    target = make(endpoint_url=silent_endpoint, timeout=2.5)  # past NEVER_ANSWERED_S
    handle = stream(make_requests(200), rate=200, target=target, rng=0, wait=False)
    with pytest.raises(DeliveryError, match="never answered") as info:
        handle.wait(timeout=60)
    assert silent_endpoint in str(info.value)
    s = handle.summary
    assert s.delivered_requests == s.dead_letter_requests == 0
    assert s.pending_requests == s.input_requests and s.balanced
    log = handle.log
    assert (log["error_code"] == "ConnectionError").all() and (log["attempt"] == 1).all()
    # the first timeout ended it: nothing was sent after it, nothing waited a second timeout
    assert log["sent"].max() < log["finished"].min() and len(log) <= target.pool[1]


def test_boto3_against_a_loopback_endpoint_needs_no_region(monkeypatch):
    """As the signed transports: a local emulator signs for any region (botocore used to
    fail at open with "You must specify a region")."""
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with LocalTracker(max_tps=None, process=False) as tracker:
        target = Boto3Target(endpoint_url=tracker.endpoint_url)
        handle = stream(make_requests(3), rate=500, target=target,
                        tracking_id=tracker.tracking_id, wait=True)  # fmt: skip
        assert len(tracker.events()) == 3
    assert handle.summary.complete


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FastTarget(endpoint_url="127.0.0.1:8000"), "http://127.0.0.1:8000"),
        (lambda: Boto3Target(endpoint_url="localhost:8000"), "http://localhost:8000"),
        (lambda: RetryPolicy(max_attempts=0), "max_attempts: got 0"),
        (lambda: RetryPolicy(deadline=-1), "deadline: got -1"),
        (lambda: RetryPolicy(mode="eager"), "mode: got 'eager'"),
    ],
)
def test_bad_retry_and_endpoint_settings_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


# -- through the CLI -------------------------------------------------------------------------


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a machine with no AWS setup at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    empty = tmp_path / "empty-aws-file"
    empty.touch()
    env.update(AWS_CONFIG_FILE=str(empty), AWS_SHARED_CREDENTIALS_FILE=str(empty),
               AWS_EC2_METADATA_DISABLED="true", **extra)  # fmt: skip
    return env


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    import json

    path = tmp_path / "requests.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in make_requests(20)))
    return subprocess.run(
        [str(SCRIPT), "stream", str(path), "--no-progress", *args],
        capture_output=True, text=True, timeout=60, env=env or bare_env(tmp_path),
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["boto3", "fast", "crt", "aiohttp"])
def test_cli_local_first_run_without_credentials_just_works(tmp_path, kind):
    with LocalTracker(max_tps=None, process=False) as tracker:
        result = run_cli(tmp_path, "--endpoint-url", tracker.endpoint_url, "--transport", kind,
                         "--rate", "200")  # fmt: skip
        stored = len(tracker.events())
    assert result.returncode == 0, result.stderr
    assert stored == 20
    assert result.stderr.count("fake local credentials") == 1
    # "fast" is the native transport when awscrt is installed (the test extra installs it)
    shown = {"fast": "crt", "aiohttp": "fast"}.get(kind, kind)
    assert f"transport {shown}" in result.stdout + result.stderr


@pytest.mark.parametrize("kind", ["boto3", "fast", "crt"])
def test_cli_missing_credentials_for_a_remote_endpoint_exit_2_in_one_message(tmp_path, kind):
    result = run_cli(tmp_path, "--endpoint-url", REMOTE, "--transport", kind)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "AWS_ACCESS_KEY_ID" in lines[0] and "--profile" in lines[0] and REMOTE in lines[0]


@pytest.mark.parametrize(
    ("kind", "where"), [("boto3", "refused"), ("fast", "refused"), ("boto3", "unknown host")]
)
def test_cli_an_endpoint_that_never_answered_fails_fast_naming_it(
    tmp_path, kind, where, refused_url
):
    url = refused_url if where == "refused" else REMOTE
    env = bare_env(tmp_path, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x")
    began = time.monotonic()
    result = run_cli(tmp_path, "--endpoint-url", url, "--transport", kind, env=env)
    # "fast" is the feature, and a subprocess has no clock to inject: the run ends 2 s
    # (NEVER_ANSWERED_S) after the first refusal, not at the 120 s retry deadline; the bound
    # leaves the CLI's start-up (seconds of imports) room on a loaded host
    assert time.monotonic() - began < 45
    assert result.returncode == 1
    assert "never answered" in result.stderr and url in result.stderr
    assert "Traceback" not in result.stderr and "achieved" not in result.stderr
    assert result.stderr.count("never answered") == 1


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--endpoint-url", "127.0.0.1:8000"], "--endpoint-url: got '127.0.0.1:8000'"),
        (["--endpoint-url", "http://127.0.0.1:9", "--max-attempts", "0"], "--max-attempts: got 0"),
        (["--endpoint-url", "http://127.0.0.1:9", "--retry-deadline", "-1"], "--retry-deadline"),
        (["--endpoint-url", "http://127.0.0.1:9", "--connections", "0"], "--connections: got 0"),
        # with --local, boto3 took 0 for "the default" (and fast refused it)
        (["--local", "--connections", "0"], "--connections: got 0"),
        (["--local", "--connections", "0", "--transport", "fast"], "--connections: got 0"),
    ],
)
def test_cli_bad_retry_and_endpoint_flags_exit_2_naming_the_flag(tmp_path, args, flag):
    result = run_cli(tmp_path, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"personalize-sim stream: {flag}"), lines
