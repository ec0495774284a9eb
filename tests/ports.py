"""Ports for tests that must name one: a server restarted on the same port, a Locust master.

Port 0 lets the kernel pick, which is right for every server that is started once. A port
that must be known in advance, or reused after a restart, is taken here from a block below
the kernel's ephemeral range (``/proc/sys/net/ipv4/ip_local_port_range``: 32768–60999 by
default), so no port-0 bind anywhere can take it meanwhile, and each pytest-xdist worker has
a block of its own, so two workers never pick the same one.
"""

from __future__ import annotations

import itertools
import os
import socket

_BASE, _BLOCK = 20_000, 400
_worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
_next = itertools.count(_BASE + _BLOCK * _worker)


def reserved_port() -> int:
    """A free port on 127.0.0.1 that only this process hands out."""
    for port in _next:
        assert port < _BASE + _BLOCK * (_worker + 1), "this worker's block of ports is used up"
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use by something outside the tests
            return port
    raise AssertionError("unreachable")
