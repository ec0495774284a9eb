"""The one place that builds boto3 clients: for streaming targets, the CLI and the emulator.

Credentials stay the user's choice (a profile, the environment, or an explicit pair for a
local emulator); nothing here prints or stores them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EVENTS_SERVICE", "SIGNING_NAME", "boto3_client"]

#: boto3's name of the PutEvents API
EVENTS_SERVICE = "personalize-events"
#: the SigV4 signing name of every Personalize API
SIGNING_NAME = "personalize"


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
