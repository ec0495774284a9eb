"""Where an emulator may listen: a non-loopback host needs signature checks or an opt-out.

>>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0")
(True, False)
"""

from __future__ import annotations

from personalize_sim.errors import ConfigError

from ._config import TrackerConfig

__all__ = ["binding_warning", "check_binding", "is_loopback"]


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, ``localhost``)."""
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def binding_warning(host: str) -> str | None:
    """The warning to print before binding ``host``, or None for a loopback address."""
    if is_loopback(host):
        return None
    return (
        f"warning: binding {host}, which other machines may reach; anyone who can connect "
        "can write events to this emulator"
    )


def check_binding(host: str, config: TrackerConfig) -> None:
    """A non-loopback ``host`` needs signature checks, or the explicit opt-out."""
    if is_loopback(host) or config.verify_signature or config.allow_unsigned_remote:
        return
    raise ConfigError(
        "host",
        host,
        "a loopback address (127.0.0.1, ::1, localhost), or else --verify-signature "
        "(verify_signature=True) or --allow-unsigned-remote (allow_unsigned_remote=True)",
    )
