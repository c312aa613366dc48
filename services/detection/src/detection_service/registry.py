"""The detection service's event registry: every contract it publishes registers here.

Kept apart from `events` so the aggregate modules can register into it without
importing each other; `detection_service.events` imports them all and is the entry
point other services and `firewatch-schemas` load.
"""

from __future__ import annotations

from typing import TypeVar

from contracts.events import ContractError, DomainEvent, EventRegistry

E = TypeVar("E", bound=DomainEvent)

STATE_WORD_EVENTS = frozenset({"AlertPending", "AlertGroupFiring", "AlertFlapping"})
"""Names that end in a state word rather than "-ed", like the library's "Overdue".
`AlertGroupFiring` is a published contract name (the incident service consumes it),
so the name cannot change; the contracts library's list of accepted state words does
not know these yet, so this registry admits exactly these three and checks the rest."""


class DetectionRegistry(EventRegistry):
    def register(self, cls: type[E]) -> type[E]:
        name = cls.event_type()
        if name not in STATE_WORD_EVENTS:
            return super().register(cls)
        if not cls.model_config.get("frozen"):
            raise ContractError(f"{name}: events must be frozen (model_config frozen=True)")
        if name in self._types:
            raise ContractError(f"{name} is registered twice in {self.owner!r}")
        self._types[name] = cls
        return cls


EVENTS = DetectionRegistry("detection")
