"""Event contracts shared by every service (see contracts.events)."""
