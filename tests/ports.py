"""Loopback ports for the servers tests and benchmarks start."""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

PORTS_FROM = 20000
"""Ports are picked below the kernel's ephemeral range (where the source ports of every
outgoing connection come from): a port the kernel picked for us with bind(0) was free a
moment ago, but any connection opened meanwhile (to RabbitMQ, PostgreSQL, another test
server) may take it as its source port before our server binds it. CI once lost a whole
`make run` fixture that way (postmortem-http: Address already in use)."""

_given: set[int] = set()
_lock = threading.Lock()
_random = random.SystemRandom()


def _ephemeral_start() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
    return low


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port on 127.0.0.1 that is free now, outside the ephemeral range, and never
    handed out twice by this process. Another process may still bind it before the
    caller does (then its server fails to start and says so); picking outside the
    ephemeral range keeps outgoing connections from ever taking it."""
    top = _ephemeral_start()
    with _lock:
        if top - PORTS_FROM > 1000:
            for _ in range(200):
                port = _random.randrange(PORTS_FROM, top)
                if port not in _given and _bindable(port):
                    _given.add(port)
                    return port
        # A machine whose ephemeral range leaves no room below it: the kernel's choice.
        while True:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
            if port not in _given:
                _given.add(port)
                return port
