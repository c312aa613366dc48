"""Firewatch runbooks: versioned procedures attached to incidents, step tracking, and
automated actions run by a worker with guard rails (docs/adr/0018-runbooks.md)."""
