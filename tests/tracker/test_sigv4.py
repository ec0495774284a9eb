"""SigV4 verification against botocore's own signer, with the server clock injected."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize_sim.tracker._sigv4 import MAX_SKEW_S, verify

KEYS = {"AKIDTEST": "secret"}
BODY = b'{"trackingId":"t","sessionId":"s","eventList":[]}'


def signed_headers(
    key="AKIDTEST", secret="secret", service="personalize", body=BODY
) -> dict[str, str]:
    """Headers botocore's signer puts on a request, signed now."""
    request = AWSRequest(
        "POST",
        "http://127.0.0.1:8000/events",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:8000"
    return headers


def signed_at(headers: dict[str, str]) -> float:
    stamp = dt.datetime.strptime(headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
    return stamp.replace(tzinfo=dt.timezone.utc).timestamp()


def check(headers, body=BODY, skew=0.0):
    """Verify with the server's clock ``skew`` seconds after the signing time."""
    now = (
        signed_at(headers) + skew
        if "x-amz-date" in headers and headers["x-amz-date"][0].isdigit()
        else 0.0
    )
    return verify("POST", "/events", "", headers, body, KEYS, now)


def test_a_botocore_signature_verifies():
    assert check(signed_headers()) is None


@pytest.mark.parametrize(
    ("skew", "words"),
    [
        (MAX_SKEW_S + 1, "Signature expired: {} is now earlier"),
        (-(MAX_SKEW_S + 1), "Signature not yet current: {} is still later"),
    ],
)
def test_signatures_too_far_from_the_server_clock_are_refused(skew, words):
    headers = signed_headers()
    problem = check(headers, skew=skew)
    assert (problem.status, problem.code) == (403, "InvalidSignatureException")
    assert problem.message.startswith(words.format(headers["x-amz-date"]))


def test_within_the_allowed_skew_is_fine():
    assert check(signed_headers(), skew=MAX_SKEW_S - 1) is None
    assert check(signed_headers(), skew=-(MAX_SKEW_S - 1)) is None


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, BODY, 403, "MissingAuthenticationToken"),
        (signed_headers(key="AKIDNOPE"), BODY, 403, "InvalidClientTokenId"),
        (signed_headers(secret="wrong"), BODY, 403, "InvalidSignatureException"),
        (signed_headers(service="s3"), BODY, 403, "InvalidSignatureException"),
        (signed_headers(), BODY + b" ", 403, "InvalidSignatureException"),
        (
            {**signed_headers(), "authorization": "Basic dXNlcg=="},
            BODY,
            400,
            "IncompleteSignatureException",
        ),
        (
            {**signed_headers(), "x-amz-date": "yesterday"},
            BODY,
            400,
            "IncompleteSignatureException",
        ),
        ({**signed_headers(), "host": "127.0.0.1:9999"}, BODY, 403, "InvalidSignatureException"),
    ],
)
def test_bad_signatures_answer_as_aws(headers, body, status, code):
    problem = check(headers, body)
    assert (problem.status, problem.code) == (status, code)


def test_the_fast_path_signs_exactly_like_botocore():
    from personalize_sim.tracker._sigv4 import _AUTH, _fast_signature

    for body in (BODY, b"", "caf\u00e9".encode()):
        headers = signed_headers(body=body, secret="secret")
        match = _AUTH.match(headers["authorization"])
        signed = match["headers"].split(";")
        assert (
            _fast_signature("POST", "/events", headers, signed, body, match, "secret")
            == match["signature"]
        )


def test_requests_with_a_query_string_are_checked_by_botocore():
    request = AWSRequest(
        "POST",
        "http://127.0.0.1:8000/events?b=2&a=1",
        data=BODY,
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials("AKIDTEST", "secret"), "personalize", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:8000"
    now = signed_at(headers)
    assert verify("POST", "/events", "b=2&a=1", headers, BODY, KEYS, now) is None
    assert (
        verify("POST", "/events", "b=3&a=1", headers, BODY, KEYS, now).code
        == "InvalidSignatureException"
    )


@pytest.mark.parametrize(
    "amz_date", ["20231301T000000Z", "20230230T000000Z", "20230101T250000Z", "00000101T000000Z"]
)
def test_a_date_of_the_right_shape_that_does_not_exist_is_incomplete_signature(amz_date):
    headers = {**signed_headers(), "x-amz-date": amz_date}
    problem = verify("POST", "/events", "", headers, BODY, KEYS, 1.7e9)
    assert problem is not None
    assert (problem.status, problem.code) == (400, "IncompleteSignatureException")
    assert amz_date in problem.message


_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=120)


@settings(max_examples=300, deadline=None)
@given(
    authorization=st.one_of(
        _HEADER_TEXT,
        st.builds(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, "
            "Signature={}".format,
            st.sampled_from(["AKIDTEST", "x", ""]),
            st.from_regex(r"\d{8}", fullmatch=True),
            _HEADER_TEXT,
            st.sampled_from(["personalize", "s3", "", "é"]),
            st.from_regex(r"[a-z0-9;\-]{0,40}", fullmatch=True),
            st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
        ),
    ),
    amz_date=st.one_of(_HEADER_TEXT, st.from_regex(r"\d{8}T\d{6}Z", fullmatch=True)),
    query=_HEADER_TEXT,
    path=st.sampled_from(["/events", "/events/é", "/%zz", "/a b"]),
)
def test_no_header_can_make_verification_raise(authorization, amz_date, query, path):
    headers = {**signed_headers(), "authorization": authorization, "x-amz-date": amz_date}
    problem = verify("POST", path, query, headers, BODY, KEYS, 1.7e9)
    assert problem is not None  # none of these is signed right
    assert 400 <= problem.status < 500
