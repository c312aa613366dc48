"""tests.ports.free_port hands out distinct ports below the ephemeral range, so no
outgoing connection can take one before its server binds it."""

from __future__ import annotations

from tests import ports


def test_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    given = [ports.free_port() for _ in range(50)]
    assert len(set(given)) == len(given)
    top = ports._ephemeral_start()
    assert all(ports.PORTS_FROM <= port < top for port in given)
