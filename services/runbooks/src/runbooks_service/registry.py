"""The runbooks service's event registry with every aggregate's contracts loaded.

The `firewatch.events` entry point names `EVENTS` here; importing the aggregate modules
is what registers their events.
"""

from runbooks_service import incident_runbooks, run, runbook
from runbooks_service.common import EVENTS

__all__ = ["EVENTS", "incident_runbooks", "run", "runbook"]
