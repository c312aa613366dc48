"""The detection service's event registry: every contract it publishes registers here.

Kept apart from `events` so the aggregate modules can register into it without
importing each other; `detection_service.events` imports them all and is the entry
point other services and `firewatch-schemas` load.
"""

from __future__ import annotations

from contracts.events import EventRegistry

# "AlertPending", "AlertGroupFiring" and "AlertFlapping" end in state words, which the
# contracts library accepts like "Overdue": the alert or group *became* pending/firing.
EVENTS = EventRegistry("detection")
