"""The paging service's event registry with every aggregate's contracts loaded.

The `firewatch.events` entry point names `EVENTS` here; importing the aggregate modules
is what registers their events.
"""

from paging_service import escalation, page, policy, schedule, sender, team, user
from paging_service.common import EVENTS

__all__ = ["EVENTS", "escalation", "page", "policy", "schedule", "sender", "team", "user"]
