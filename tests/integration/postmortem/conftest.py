"""The postmortem application over one SQLite log with the incident and paging writers
(the unit tests' `world`), plus its web pages on a real waitress server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import waitress  # type: ignore[import-untyped]

from postmortem_service.web import WebApp
from tests.unit.postmortem.conftest import World, clock, world

__all__ = ["World", "clock", "world"]


@pytest.fixture
def pages(world: World) -> Iterator[str]:
    """The pages' base URL, served by waitress on a free loopback port."""
    server = waitress.create_server(WebApp(world.app), host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
