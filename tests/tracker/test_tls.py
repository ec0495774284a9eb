"""The emulator over HTTPS, with a certificate given at start (a throwaway test CA)."""

from __future__ import annotations

import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from personalize_sim.errors import ConfigError
from personalize_sim.tracker import LocalTracker, TrackerConfig
from personalize_sim.tracker._process import read_line

from .conftest import event

SCRIPT = Path(sys.executable).with_name("personalize-sim")


def tls_client(url: str, ca: str | bool):
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    config = Config(retries={"total_max_attempts": 1})
    return session.client("personalize-events", endpoint_url=url, verify=ca, config=config)


@pytest.mark.parametrize("process", [True, False])
def test_it_serves_https_and_boto3_trusting_the_test_ca_stores_events(test_ca, process):
    tls = {"tls_cert": test_ca["cert"], "tls_key": test_ca["key"]}
    with LocalTracker(max_tps=None, verify_signature=True, process=process, **tls) as tracker:
        assert tracker.endpoint_url.startswith("https://127.0.0.1:")
        client = tls_client(tracker.endpoint_url, test_ca["ca"])
        client.put_events(trackingId=tracker.tracking_id, sessionId="s", eventList=[event(1)])
        client.close()
        assert tracker.stats()["accepted_events"] == 1
    assert tracker.events()["EVENT_ID"].tolist() == ["e-1"]


def test_over_https_a_client_must_trust_the_certificate(test_ca):
    tls = {"tls_cert": test_ca["cert"], "tls_key": test_ca["key"]}
    with LocalTracker(max_tps=None, **tls) as tracker:
        context = ssl.create_default_context(cafile=test_ca["ca"])
        with urllib.request.urlopen(tracker.endpoint_url + "/stats", context=context) as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(tracker.endpoint_url + "/stats")  # the system's CAs only
        plain = tracker.endpoint_url.replace("https://", "http://")
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(plain + "/stats", timeout=10).read()
        assert tracker.stats()["PutEventsRequests"] == 0


def test_the_certificate_and_key_come_together_and_must_exist(test_ca, tmp_path):
    with pytest.raises(ConfigError, match="tls_key: got None; both tls_cert and tls_key"):
        TrackerConfig(tls_cert=test_ca["cert"])
    with pytest.raises(ConfigError, match="tls_cert: got None"):
        TrackerConfig(tls_key=test_ca["key"])
    missing = str(tmp_path / "nope.pem")
    with pytest.raises(ConfigError, match=r"tls_cert: got '.*nope\.pem'; the path of an existing"):
        TrackerConfig(tls_cert=missing, tls_key=test_ca["key"])
    config = TrackerConfig(tls_cert=Path(test_ca["cert"]), tls_key=test_ca["key"])
    assert config.tls_cert == test_ca["cert"]  # a path string: it travels as JSON
    assert TrackerConfig.from_dict(config.to_dict()) == config


def test_serve_takes_tls_flags_and_listens_on_https(test_ca, tmp_path):
    args = ["serve", "--db", str(tmp_path / "e.db"), "--max-tps", "0",
            "--tls-cert", test_ca["cert"], "--tls-key", test_ca["key"]]  # fmt: skip
    process = subprocess.Popen([str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = read_line(process, 30)
        assert line.startswith("listening on https://127.0.0.1:"), line
        url = line.removeprefix("listening on ").strip()
        client = tls_client(url, test_ca["ca"])
        client.put_events(trackingId="t", sessionId="s", eventList=[event(2)])
        client.close()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0
    assert b"1 events stored" in err
