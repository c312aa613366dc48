"""The communications unit fixtures (a SQLite log, a fake clock, the application)."""

from tests.unit.comms.conftest import app, clock, store

__all__ = ["app", "clock", "store"]
