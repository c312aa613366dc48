"""Every event contract of the detection service, loaded in one place.

Importing this module registers the events of each aggregate (alert, group, silence,
heartbeat, rule, integration, check) into `EVENTS`, the registry named by the package's
`firewatch.events` entry point.
"""

from __future__ import annotations

from detection_service import alert, check, group, heartbeat, integration, rule, silence
from detection_service.registry import EVENTS

AGGREGATES = (alert, group, heartbeat, integration, rule, silence, check)

__all__ = ["AGGREGATES", "EVENTS"]
