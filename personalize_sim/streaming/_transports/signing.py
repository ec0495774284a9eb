"""What the signed transports (aiohttp's and the CRT's) resolve before their first send."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..._aws import resolve_signing, signing_credentials_and_url

__all__ = ["Signing"]


@dataclass
class Signing:
    """The region to sign for, the explicit key pair (the caller's own or the fake local one;
    never keys found by the provider chain), then the credentials and the ``…/events`` URL."""

    region: str | None = None
    keys: tuple[str | None, str | None] = (None, None)
    prepared: bool = False
    credentials: Any = None
    url: str = ""

    def prepare(self, target: Any) -> None:
        """Resolve the region and the keys of ``target``'s settings, once."""
        if self.prepared:
            return
        keys = (target.access_key_id, target.secret_access_key)
        self.region, self.keys = resolve_signing(
            target.region, target.profile, target.endpoint_url, keys
        )
        self.prepared = True

    def open(self, target: Any) -> None:
        """Find the credentials (refreshable ones refresh themselves) and the URL."""
        self.prepare(target)
        self.credentials, self.url = signing_credentials_and_url(
            target.profile, self.region or "", target.endpoint_url, self.keys
        )

    def endpoint(self, target: Any) -> str:
        return self.url or target.endpoint_url or f"AWS ({self.region or 'default region'})"

    def worker_copy(self, target: Any) -> Any:
        """``target``'s settings with the region and explicit keys resolved (so a worker finds
        the same without asking again); keys from the provider chain are never passed on."""
        self.prepare(target)
        access_key_id, secret_access_key = self.keys
        return dataclasses.replace(
            target, region=self.region, access_key_id=access_key_id,
            secret_access_key=secret_access_key,
        )  # fmt: skip
