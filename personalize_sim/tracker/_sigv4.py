"""Optional SigV4 verification of incoming requests, with botocore's own signer.

The emulator recomputes the signature of each request exactly as botocore's
``SigV4Auth`` (signing name ``personalize``) would have computed it for the
configured key pair, and answers as AWS does when it does not match:

==============================  ======  ==========================================
problem                         status  ``x-amzn-ErrorType``
==============================  ======  ==========================================
no ``Authorization`` header     403     ``MissingAuthenticationToken``
header not SigV4 / incomplete   400     ``IncompleteSignatureException``
unknown access key id           403     ``InvalidClientTokenId``
wrong service in the scope      403     ``InvalidSignatureException``
another region in the scope     403     ``InvalidSignatureException`` (it serves :data:`REGION`)
signature does not match        403     ``InvalidSignatureException``
``X-Amz-Date`` over 15 min off  403     ``InvalidSignatureException`` (expired / not yet current)
==============================  ======  ==========================================
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["REGION", "SIGNING_NAME", "SignatureError", "verify"]

SIGNING_NAME = "personalize"
#: the region the emulator serves, that of its ARNs (docs/reference/personalize-events.md, 2.5)
REGION = "us-east-1"
#: how far X-Amz-Date may be from the server's clock (AWS allows 15 minutes)
MAX_SKEW_S = 15 * 60

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<key>[^/\s,]+)/(?P<date>\d{8})/(?P<region>[^/\s,]+)/(?P<service>[^/\s,]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<headers>[a-z0-9;\-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SignatureError:
    """Why a request's signature was refused: the HTTP status, error code and message."""

    status: int
    code: str
    message: str


def verify(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, str],
    now: float,
) -> SignatureError | None:
    """None when ``headers['authorization']`` is a valid SigV4 signature of the request.

    ``headers`` has lower-case names; ``keys`` maps access key ids to secret keys;
    ``now`` is the server's wall clock (epoch seconds), injected for tests.
    """
    auth = headers.get("authorization")
    if not auth:
        return SignatureError(403, "MissingAuthenticationToken", "Missing Authentication Token")
    match = _AUTH.match(auth.strip())
    amz_date = headers.get("x-amz-date", "")
    if match is None or not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
        return SignatureError(
            400,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters in the AWS4-HMAC-SHA256 format, and an X-Amz-Date header "
            "(yyyyMMddTHHmmssZ).",
        )
    secret = keys.get(match["key"])
    if secret is None:
        return SignatureError(
            403, "InvalidClientTokenId", "The security token included in the request is invalid."
        )
    if match["service"] != SIGNING_NAME:
        return SignatureError(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{SIGNING_NAME}'.",
        )
    if match["region"] != REGION:
        return SignatureError(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{match['region']}'.",
        )
    try:
        signed_at = dt.datetime(
            int(amz_date[:4]), int(amz_date[4:6]), int(amz_date[6:8]),
            int(amz_date[9:11]), int(amz_date[11:13]), int(amz_date[13:15]),
            tzinfo=dt.timezone.utc,
        )  # fmt: skip
    except ValueError:  # 20231301T000000Z: the right shape, but no such date
        return SignatureError(
            400,
            "IncompleteSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        )
    if abs(signed_at.timestamp() - now) > MAX_SKEW_S:
        server = dt.datetime.fromtimestamp(now, dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        message = (
            f"Signature expired: {amz_date} is now earlier than {server} minus 15 min."
            if signed_at.timestamp() < now
            else f"Signature not yet current: {amz_date} is still later than {server} plus 15 min."
        )
        return SignatureError(403, "InvalidSignatureException", message)
    signed = match["headers"].split(";")
    missing = [h for h in signed if h not in headers]
    if missing or "host" not in signed or match["date"] != amz_date[:8]:
        return SignatureError(
            403, "InvalidSignatureException", _MISMATCH + " (signed headers or date scope)"
        )
    # The common case (no query string: every PutEvents call) is signed here with a cached
    # key; only a match is trusted, since matching needs the secret. Anything else gets
    # botocore's own computation, the reference for the verdict and the message.
    if not query and hmac.compare_digest(
        _fast_signature(method, path, headers, signed, body, match, secret), match["signature"]
    ):
        return None
    try:
        return _botocore_verdict(method, path, query, headers, body, match, secret, signed)
    except (ValueError, TypeError, KeyError, UnicodeError):  # a request botocore cannot rebuild
        return SignatureError(403, "InvalidSignatureException", _MISMATCH)


def _botocore_verdict(
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    match: re.Match[str],
    secret: str,
    signed: list[str],
) -> SignatureError | None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    amz_date = headers["x-amz-date"]

    # Rebuild the request with exactly the headers the client signed, then let botocore
    # compute the signature it would have produced with the configured secret.
    url = f"http://{headers['host']}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers={h: headers[h] for h in signed})
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(match["key"], secret), SIGNING_NAME, match["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return SignatureError(403, "InvalidSignatureException", _MISMATCH)
    return None


def _fast_signature(
    method: str,
    path: str,
    headers: Mapping[str, str],
    signed: list[str],
    body: bytes,
    match: re.Match[str],
    secret: str,
) -> str:
    """SigV4 of a request without a query string, as the SigV4 spec and botocore define it."""
    canonical_headers = "".join(f"{h}:{' '.join(headers[h].split())}\n" for h in signed)
    canonical = "\n".join(
        (
            method,
            quote(path, safe="/~"),
            "",
            canonical_headers,
            match["headers"],
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{match['date']}/{match['region']}/{match['service']}/aws4_request"
    to_sign = "\n".join(
        (
            "AWS4-HMAC-SHA256",
            headers["x-amz-date"],
            scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        )
    )
    key = _signing_key(secret, match["date"], match["region"], match["service"])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method."
)
