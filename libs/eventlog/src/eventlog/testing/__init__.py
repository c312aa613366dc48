"""Test doubles that ship with the event log, for this repository's tests and for
services' own tests. Nothing here is used in production code paths."""
