"""The communications service's event registry with every aggregate's contracts loaded.

The `firewatch.events` entry point names `EVENTS` here; importing the aggregate modules
is what registers their events.
"""

from comms_service import dispatch, room, sender, status_incident, statuspage, subscriber
from comms_service.common import EVENTS

__all__ = ["EVENTS", "dispatch", "room", "sender", "status_incident", "statuspage", "subscriber"]
