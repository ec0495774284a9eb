"""``personalize-sim serve`` as a user runs it: the installed console script, in a subprocess."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from personalize_sim.cli import build_parser
from personalize_sim.cli._serve import config_from
from personalize_sim.tracker import TrackerConfig
from personalize_sim.tracker._process import read_line

from ..tracker.conftest import event, request

SCRIPT = Path(sys.executable).with_name("personalize-sim")


@contextmanager
def serve(*args: str, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen, str]]:
    process = subprocess.Popen(
        [str(SCRIPT), "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        line = read_line(process, 30)
        yield process, line
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def client_for(url: str, key: str = "testing", secret: str = "testing"):
    return boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1"
    ).client(
        "personalize-events", endpoint_url=url, config=Config(retries={"total_max_attempts": 1})
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_its_address_first_and_exits_0_after_flushing(tmp_path, sig):
    db = tmp_path / "events.db"
    with serve("--port", "0", "--db", str(db), "--tracking-id", "tid", "--max-tps", "0") as (
        process,
        line,
    ):
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", line)
        assert match, line
        assert int(match[2]) > 0
        client_for(match[1]).put_events(**request([event(i) for i in range(10)], trackingId="tid"))
        process.send_signal(sig)
        rest = process.stdout.read()  # what read_line's buffer holds past the first line too
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert (rest + out).decode().splitlines() == ["tracking id: tid"]  # then the tracking id
    assert b"10 events stored" in err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (10,)
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_serve_options_reach_the_emulator(tmp_path):
    args = ["--db", str(tmp_path / "x.db"), "--tracking-id", "a", "--tracking-id", "b"]
    args += [
        "--max-tps",
        "0.001",
        "--throttle-status",
        "429",
        "--latency-ms",
        "1..2",
        "--seed",
        "5",
    ]
    with serve(*args) as (process, line):
        client = client_for(line.split()[-1])
        client.put_events(**request(trackingId="b"))
        with pytest.raises(ClientError) as info:
            client.put_events(**request(trackingId="b"))
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.put_events(**request(trackingId="c"))
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0


def test_serve_error_rate_and_signature_check(tmp_path):
    env = {
        "PERSONALIZE_SIM_ACCESS_KEY_ID": "AKIDCLI",
        "PERSONALIZE_SIM_SECRET_ACCESS_KEY": "cli-secret",
    }
    args = [
        "--db",
        str(tmp_path / "x.db"),
        "--verify-signature",
        "--error-rate",
        "1",
        "--error-status",
        "503",
        "--seed",
        "1",
    ]
    with serve(*args, env=env) as (process, line):
        url = line.split()[-1]
        with pytest.raises(ClientError) as info:
            client_for(url, "AKIDCLI", "wrong").put_events(**request())
        assert info.value.response["Error"]["Code"] == "InvalidSignatureException"
        with pytest.raises(ClientError) as info:
            client_for(url, "AKIDCLI", "cli-secret").put_events(**request())
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--error-rate", "2"], b"--error-rate: got 2.0; a probability between 0 and 1"),
        (["--latency-ms", "soon"], b"--latency-ms: got 'soon'; a number of ms (5), a range"),
        (["--throttle-status", "500"], b"invalid choice: 500"),
        (["--error-status", "502"], b"invalid choice: 502"),
        (["--max-tps", "lots"], b"invalid float value: 'lots'"),
        (["--seed", "-3"], b"--seed: got -3; an integer >= 0"),
    ],
)
def test_serve_refuses_bad_options_with_exit_2(tmp_path, args, message):
    result = subprocess.run(
        [str(SCRIPT), "serve", "--db", str(tmp_path / "x.db"), *args],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == b""


def test_serve_help_lists_every_option():
    result = subprocess.run(
        [str(SCRIPT), "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    for option in [
        "--host",
        "--port",
        "--db",
        "--tracking-id",
        "--max-tps",
        "--throttle-status",
        "--latency-ms",
        "--error-rate",
        "--error-status",
        "--verify-signature",
        "--seed",
    ]:
        assert option in result.stdout
    assert "--access-key" not in result.stdout and "--secret" not in result.stdout
    assert "(defaultpersonalize-sim-events.db)" in "".join(result.stdout.split())  # wrapped


def test_every_tracker_option_is_a_flag_or_an_environment_variable(test_ca):
    tls = {"tls_cert": test_ca["cert"], "tls_key": test_ca["key"]}
    flags = [
        *("--tls-cert", tls["tls_cert"], "--tls-key", tls["tls_key"]),
        *("--tracking-id", "a", "--tracking-id", "b", "--max-tps", "5"),
        *("--throttle-status", "429", "--latency-ms", "1..2", "--error-rate", "0.5"),
        *("--error-status", "503", "--verify-signature", "--seed", "3"),
        *("--allow-unsigned-remote", "--header-timeout", "2.5", "--idle-timeout", "7"),
        *("--recommender", "top=popularity", "--recommender", "campaign/me=random"),
        *("--filter", 'new=EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")'),
        *("--runtime-max-tps", "50", "--trending-half-life", "60", "--dataset-max-tps", "10"),
    ]
    environ = {"PERSONALIZE_SIM_ACCESS_KEY_ID": "AK", "PERSONALIZE_SIM_SECRET_ACCESS_KEY": "SK"}
    config = config_from(build_parser().parse_args(["serve", *flags]), environ)
    assert config == TrackerConfig(
        tracking_ids=("a", "b"),
        max_tps=5,
        throttle_status=429,
        latency_ms="1..2",
        error_rate=0.5,
        error_statuses=(503,),
        verify_signature=True,
        access_key_id="AK",
        secret_access_key="SK",
        rng=3,
        allow_unsigned_remote=True,
        header_timeout=2.5,
        idle_timeout=7,
        recommenders=("top=popularity", "campaign/me=random"),
        filters={"new": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")'},
        runtime_max_tps=50,
        trending_half_life=60,
        dataset_max_tps=10,
        **tls,
    )
    for field in dataclasses.fields(TrackerConfig):  # so no field was left out above
        assert getattr(config, field.name) != field.default, field.name
    assert config_from(build_parser().parse_args(["serve"]), {}) == TrackerConfig()


def test_serve_with_an_unusable_store_says_so_and_exits_1(tmp_path):
    db = tmp_path / "missing" / "e.db"
    result = subprocess.run(
        [str(SCRIPT), "serve", "--db", str(db)], capture_output=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stdout == b""
    assert f"cannot open the store {db}: unable to open database file".encode() in result.stderr


def test_serve_answers_the_runtime_api_of_declared_recommenders(tmp_path):
    with serve("--db", str(tmp_path / "e.db"), "--recommender", "top=popularity") as (_, line):
        url = line.split()[-1]
        events = client_for(url)
        events.put_events(**request([event(0), event(1), event(2, itemId="item-1")]))
        runtime = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client("personalize-runtime", endpoint_url=url)
        arn = TrackerConfig(recommenders=["top=popularity"]).recommender_arns["top"]
        answer = runtime.get_recommendations(recommenderArn=arn, userId="someone")
        assert [entry["itemId"] for entry in answer["itemList"]] == ["item-1", "item-0"]
        with pytest.raises(runtime.exceptions.ResourceNotFoundException):
            runtime.get_recommendations(recommenderArn=arn + "-gone", userId="someone")
    with sqlite3.connect(tmp_path / "e.db") as db:
        assert db.execute("SELECT arn FROM recommendations").fetchall() == [(arn,)]
