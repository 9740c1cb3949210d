"""Network helpers shared by the load test and the tests that start servers."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it; it may be taken again before use)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
