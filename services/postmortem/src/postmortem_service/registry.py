"""The postmortem service's event registry with every aggregate's contracts loaded.

The `firewatch.events` entry point names `EVENTS` here; importing the aggregate modules
is what registers their events.
"""

from postmortem_service import action, postmortem, webhooks
from postmortem_service.common import EVENTS

__all__ = ["EVENTS", "action", "postmortem", "webhooks"]
