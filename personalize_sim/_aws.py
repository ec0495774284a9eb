"""The one place that builds boto3 clients: for streaming targets, the CLI and the emulator.

Credentials stay the user's choice (a profile, the environment, or an explicit pair for a
local emulator); nothing here prints or stores them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CREDENTIALS_FIX",
    "EVENTS_SERVICE",
    "LOCAL_KEYS",
    "SIGNING_NAME",
    "boto3_client",
    "check_endpoint_url",
    "is_loopback",
    "local_keys_if_needed",
    "resolve_signing",
    "signing_credentials_and_url",
]

#: boto3's name of the PutEvents API
EVENTS_SERVICE = "personalize-events"
#: the SigV4 signing name of every Personalize API
SIGNING_NAME = "personalize"
#: the clearly fake key pair used against a loopback endpoint when none is configured (the
#: local emulator's own default pair, so even a signature-checking emulator accepts it)
LOCAL_KEYS = ("testing", "testing")


def boto3_client(
    service: str = EVENTS_SERVICE,
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    keys: tuple[str, str] | None = None,
    **config: Any,
) -> Any:
    """A boto3 client; ``keys`` is an explicit (access key id, secret) pair, ``config`` goes to
    ``botocore.config.Config`` (``retries=``, ``max_pool_connections=`` …)."""
    import boto3
    from botocore.config import Config

    credentials = {} if keys is None else {
        "aws_access_key_id": keys[0], "aws_secret_access_key": keys[1],
    }  # fmt: skip
    session = boto3.session.Session(profile_name=profile, region_name=region, **credentials)
    return session.client(service, endpoint_url=endpoint_url, config=Config(**config))


def check_endpoint_url(url: Any, field: str = "endpoint_url") -> str | None:
    """``url`` if it is None or an absolute http(s) URL with a host, else :class:`ConfigError`.

    >>> try:
    ...     check_endpoint_url("127.0.0.1:8000")
    ... except ValueError as e:
    ...     print(e.allowed)
    a URL with a scheme and a host, such as http://127.0.0.1:8000
    """
    from urllib.parse import urlsplit

    from .errors import ConfigError, ConfigTypeError

    if url is None:
        return None
    if not isinstance(url, str):
        raise ConfigTypeError(field, url, "a URL string such as http://127.0.0.1:8000")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        example = "http://" + url if "://" not in url else "http://127.0.0.1:8000"
        raise ConfigError(field, url, f"a URL with a scheme and a host, such as {example}")
    return url


def is_loopback(url: str | None) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): never a real AWS.

    >>> is_loopback("http://127.0.0.1:8000"), is_loopback("http://[::1]:80")
    (True, True)
    >>> is_loopback("https://personalize-events.us-east-1.amazonaws.com"), is_loopback(None)
    (False, False)
    """
    import ipaddress
    from urllib.parse import urlsplit

    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: how to fix missing credentials, in both the CLI's and Python's terms
CREDENTIALS_FIX = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile (AWS_PROFILE, --profile "
    "on the command line, profile= in Python)"
)


def local_keys_if_needed(
    *, profile: str | None, endpoint_url: str | None, where: str = CREDENTIALS_FIX
) -> tuple[str, str] | None:
    """None when botocore's provider chain finds credentials; :data:`LOCAL_KEYS` (with a
    one-line notice) when it does not and ``endpoint_url`` is loopback; else ConfigError.

    Looked up once, before the first send, so a stream never dead-letters every request
    for want of credentials. ``where`` names the setting in the caller's terms.
    """
    import logging

    import botocore.session
    from botocore.exceptions import BotoCoreError

    from .errors import ConfigError

    try:
        found = botocore.session.Session(profile=profile).get_credentials()
    except BotoCoreError as e:  # e.g. ProfileNotFound, a broken config file
        raise ConfigError("profile", profile, f"a usable AWS profile ({e})") from None
    if found is not None:
        return None
    if is_loopback(endpoint_url):
        logging.getLogger("personalize_sim").warning(
            "no AWS credentials configured: signing with fake local credentials for the "
            "loopback endpoint %s", endpoint_url,
        )  # fmt: skip
        return LOCAL_KEYS
    raise ConfigError(
        "credentials", None,
        f"no AWS credentials found for {endpoint_url or 'AWS'}; {where}",
    )  # fmt: skip


def resolve_signing(
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    keys: tuple[str | None, str | None],
) -> tuple[str, tuple[str | None, str | None]]:
    """The region to sign for and the explicit key pair (fake local keys for a loopback
    endpoint when the provider chain has none): checked before the first send."""
    import botocore.session

    from .errors import ConfigError

    region = region or botocore.session.Session(profile=profile).get_config_variable("region")
    if not region and is_loopback(endpoint_url):
        region = "us-east-1"  # a local emulator signs for any region
    if not region:
        raise ConfigError(
            "region", None, "a region to sign for: region= in Python, --region on the "
            "command line, or AWS_DEFAULT_REGION",
        )  # fmt: skip
    if not all(keys):
        local = local_keys_if_needed(profile=profile, endpoint_url=endpoint_url)
        if local is not None:
            keys = local
    return region, keys


def signing_credentials_and_url(
    profile: str | None,
    region: str,
    endpoint_url: str | None,
    keys: tuple[str | None, str | None],
) -> tuple[Any, str]:
    """botocore's credentials (explicit ``keys`` first, else the provider chain; refreshable
    ones refresh themselves) and the ``…/events`` URL (the endpoint botocore would use)."""
    import botocore.session

    from .errors import ConfigError

    session = botocore.session.Session(profile=profile)
    if all(keys):
        session.set_credentials(*keys)
    credentials = session.get_credentials()
    if credentials is None:
        raise ConfigError("credentials", None, f"no AWS credentials found; {CREDENTIALS_FIX}")
    endpoint = endpoint_url
    if endpoint is None:  # the endpoint botocore itself would use
        client = session.create_client(EVENTS_SERVICE, region_name=region)
        endpoint = client.meta.endpoint_url
        client.close()
    return credentials, endpoint.rstrip("/") + "/events"
