"""The base of every domain event, and the registry that versions and upcasts them.

Owns how a domain event becomes a log event and back: its type name (past tense),
its `schema_version`, the chain of upcasters that lifts an old stored payload to the
current shape, and JSON Schema export. It never touches storage; services hand it
`eventlog.RecordedEvent`s and get frozen pydantic models back.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from eventlog import EventMetadata, NewEvent, RecordedEvent

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
E = TypeVar("E", bound="DomainEvent")

# Event names say what happened. Most end in "-ed"; these irregular past forms and
# state words ("UpdateOverdue", "AlertGroupFiring": the group became firing) are also
# accepted.
_IRREGULAR_PAST = frozenset(
    {
        "Begun",
        "Built",
        "Cut",
        "Done",
        "Due",
        "Firing",
        "Flapping",
        "Found",
        "Given",
        "Held",
        "Hit",
        "Left",
        "Lost",
        "Made",
        "Overdue",
        "Paid",
        "Pending",
        "Put",
        "Read",
        "Rebuilt",
        "Reset",
        "Run",
        "Sent",
        "Set",
        "Shut",
        "Sold",
        "Taken",
        "Told",
        "Won",
        "Written",
    }
)
_LAST_WORD = re.compile(r"[A-Z][a-z0-9]*$")


class ContractError(Exception):
    """A contract was declared wrongly (a programming error, found at import time)."""


class UnknownEventTypeError(LookupError):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"no contract is registered for event type {event_type!r}")
        self.event_type = event_type


class EventLoadError(ValueError):
    """A stored event could not be upcast or validated into its current contract."""


class DomainEvent(BaseModel):
    """A fact that happened. Subclasses are frozen and name themselves in the past tense.

    Class attributes:
      `schema_version` — bump it when the payload shape changes, and register an
      upcaster from the previous version.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    schema_version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__


def is_past_tense(name: str) -> bool:
    match = _LAST_WORD.search(name)
    if match is None:
        return False
    word = match.group(0)
    return word.endswith("ed") or word in _IRREGULAR_PAST


class EventRegistry:
    """The event contracts one service publishes, with their upcasters."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._types: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[E]) -> type[E]:
        """Class decorator: publish `cls` as a contract of this registry."""
        name = cls.event_type()
        if not is_past_tense(name):
            raise ContractError(
                f"{name}: event names are past tense (e.g. IncidentDeclared), "
                "because an event records something that already happened"
            )
        if not cls.model_config.get("frozen"):
            raise ContractError(f"{name}: events must be frozen (model_config frozen=True)")
        if name in self._types:
            raise ContractError(f"{name} is registered twice in {self.owner!r}")
        if cls.schema_version < 1:
            raise ContractError(f"{name}: schema_version starts at 1")
        self._types[name] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: a pure function turning a `from_version` payload into the next one."""

        def decorate(function: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._upcasters:
                raise ContractError(f"two upcasters for {event_type} v{from_version}")
            self._upcasters[key] = function
            return function

        return decorate

    def check_complete(self) -> None:
        """Every version below the current one must have an upcaster; call it in tests."""
        for name, cls in self._types.items():
            for version in range(1, cls.schema_version):
                if (name, version) not in self._upcasters:
                    raise ContractError(
                        f"{name} is at v{cls.schema_version} but has no upcaster from v{version}"
                    )

    @property
    def types(self) -> Mapping[str, type[DomainEvent]]:
        return dict(self._types)

    def __contains__(self, event_type: str) -> bool:
        return event_type in self._types

    # ------------------------------------------------------------------ loading

    def load(self, event_type: str, schema_version: int, data: Mapping[str, Any]) -> DomainEvent:
        """Upcast a stored payload to the current version and validate it."""
        cls = self._types.get(event_type)
        if cls is None:
            raise UnknownEventTypeError(event_type)
        if schema_version > cls.schema_version:
            raise EventLoadError(
                f"{event_type} v{schema_version} is newer than this code's "
                f"v{cls.schema_version}; deploy the newer contract before reading it"
            )
        payload: Payload = dict(data)
        for version in range(schema_version, cls.schema_version):
            upcast = self._upcasters.get((event_type, version))
            if upcast is None:
                raise EventLoadError(f"{event_type}: no upcaster from v{version}")
            payload = upcast(payload)
        try:
            return cls.model_validate(payload)
        except ValidationError as exc:
            raise EventLoadError(f"{event_type} v{schema_version}: {exc}") from exc

    def from_recorded(self, recorded: RecordedEvent) -> DomainEvent:
        cls = self._types.get(recorded.type)
        raw = recorded.data_json
        if raw is not None and cls is not None and recorded.schema_version == cls.schema_version:
            # The hot path of every fold: a current-version payload read from a store is
            # validated from its stored text, skipping json.loads and the dict copy,
            # by the model's own validator: model_validate_json() is a Python wrapper
            # around the same call that cost almost as much as the validation itself.
            try:
                return cls.__pydantic_validator__.validate_json(raw)  # type: ignore[no-any-return]
            except ValidationError as exc:
                raise EventLoadError(f"{recorded.type} v{recorded.schema_version}: {exc}") from exc
        return self.load(recorded.type, recorded.schema_version, recorded.data)

    def decode_all(self, recorded: Iterable[RecordedEvent]) -> Iterator[DomainEvent]:
        """`from_recorded` of each event, lazily and in order, with the same values and
        the same errors: a fold over a long stream (an as-of replay of a 10,000-event
        incident) without a method call and the class lookups per event around the
        validation (docs/adr/0030). A stored current-version payload goes straight to
        its model's JSON validator, found once per type the first time that fast path
        applies; anything else (an older version to upcast, an unknown type, an event
        built in memory) takes `from_recorded` itself.
        tests/unit/contracts/test_decode_all.py proves the two agree on any sequence."""
        # type -> (current schema_version, its model's validate_json)
        validators: dict[str, tuple[int, Callable[[str], DomainEvent]]] = {}
        for event in recorded:
            raw = event.data_json
            entry = validators.get(event.type)
            if entry is None:
                cls = self._types.get(event.type)
                if cls is None or raw is None or event.schema_version != cls.schema_version:
                    yield self.from_recorded(event)
                    continue
                entry = validators[event.type] = (
                    cls.schema_version,
                    cls.__pydantic_validator__.validate_json,
                )
            elif raw is None or event.schema_version != entry[0]:
                yield self.from_recorded(event)
                continue
            try:
                decoded = entry[1](raw)
            except ValidationError as exc:
                raise EventLoadError(f"{event.type} v{event.schema_version}: {exc}") from exc
            yield decoded

    # ------------------------------------------------------------------ writing

    def to_new_event(
        self,
        event: DomainEvent,
        *,
        event_id: uuid.UUID | None = None,
        metadata: EventMetadata | None = None,
    ) -> NewEvent:
        name = event.event_type()
        if self._types.get(name) is not type(event):
            raise UnknownEventTypeError(name)
        return NewEvent(
            type=name,
            data=event.model_dump(mode="json"),
            id=event_id or uuid.uuid4(),
            schema_version=type(event).schema_version,
            metadata=metadata or EventMetadata(),
        )

    # ------------------------------------------------------------------ publishing

    def json_schemas(self) -> dict[str, dict[str, Any]]:
        """JSON Schema of every current contract, keyed by event type."""
        schemas: dict[str, dict[str, Any]] = {}
        for name, cls in sorted(self._types.items()):
            schema = cls.model_json_schema()
            schema["x-event-type"] = name
            schema["x-schema-version"] = cls.schema_version
            schema["x-owner"] = self.owner
            schemas[name] = schema
        return schemas
