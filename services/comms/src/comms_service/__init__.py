"""Firewatch communications: channels, stakeholder updates on a promised cadence, and
the status page (see ADR 0015)."""

__version__ = "0.1.0"
