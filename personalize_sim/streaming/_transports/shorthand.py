"""The ``target=`` shorthand: a name or a boto3 client turned into a :class:`Target`."""

from __future__ import annotations

from typing import Any

from ...errors import ConfigTypeError
from .base import Target
from .fast import FastTarget
from .memory import MemoryTarget
from .sdk import Boto3Target

__all__ = ["fast_target", "make_target"]


def make_target(target: Any) -> Target:
    """Turn the ``target=`` shorthand into a Target.

    None or "boto3": a boto3 client from the default session (retries off); "fast": the
    fastest signed transport installed (:func:`fast_target`); "crt": the native transport
    (needs ``awscrt``); "aiohttp": :class:`FastTarget`; "memory": :class:`MemoryTarget`; a
    boto3 client: :class:`Boto3Target` around it; a Target: itself.
    """
    if isinstance(target, Target):
        return target
    if target is None or target == "boto3":
        return Boto3Target()
    if target == "fast":
        return fast_target()
    if target == "crt":
        from .crt import CrtTarget

        return CrtTarget()
    if target == "aiohttp":
        return FastTarget()
    if target == "memory":
        return MemoryTarget()
    if hasattr(target, "put_events"):
        return Boto3Target(target)
    raise ConfigTypeError(
        "target", target,
        "a boto3 personalize-events client, a Target, or one of 'boto3', 'fast', 'crt', "
        "'aiohttp', 'memory'",
    )  # fmt: skip


def fast_target(**settings: Any) -> Target:
    """The fast signed transport: :class:`~._crt.CrtTarget` when ``awscrt`` is installed
    (``pip install personalize-sim[crt]``), else :class:`FastTarget` (aiohttp); ``settings``
    (``endpoint_url``, ``region``, ``profile``, ``connections``, ``timeout``…) go to it.

    >>> fast_target(endpoint_url="http://127.0.0.1:8000").name in ("crt", "fast")
    True
    """
    from .crt import CrtTarget, crt_available

    return CrtTarget(**settings) if crt_available() else FastTarget(**settings)
