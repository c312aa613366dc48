"""Read models of the postmortem service, folded from the log by appkit's runner.

- `Directory`: the paging service's user directory (users, their time zones and
  contact methods, teams), read from paging's published `user-*` and `team-*` events
  with a tolerant reader: services share contracts, not code. It answers "is this a
  known user", "what zone is the owner in", "how do I reach them", "who is on their
  team" and supplies the names the blameless check looks for.
- `PostmortemModel`: every postmortem and action item's state (AggregateStates), an
  index of action items per incident, and the due index the reminder scheduler reads:
  for each active action item, what it still has to do and when (`action.next_due`),
  in a heap so a tick looks only at what is due.

Pure folds: no clock, no store, no network; dropping and replaying rebuilds them.
"""

from __future__ import annotations

import heapq
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appkit import AggregateStates, Decider
from eventlog import EventFilter, RecordedEvent
from postmortem_service import action as ac
from postmortem_service import postmortem as pm
from postmortem_service.common import EVENTS

USER_CATEGORY = "user"
TEAM_CATEGORY = "team"
"""The paging service's published stream categories (its log layout)."""


@dataclass
class DirectoryUser:
    user_id: str
    name: str
    time_zone: str = "UTC"
    methods: dict[str, tuple[str, str]] = field(default_factory=dict)
    """method id -> (kind, address), in the order they were added."""


@dataclass
class DirectoryTeam:
    team_id: str
    name: str
    members: tuple[str, ...]


class Directory:
    """Paging's users and teams, as a tolerant reader of its events."""

    name = "postmortem.directory"
    filter: EventFilter | None = EventFilter.of(categories=[USER_CATEGORY, TEAM_CATEGORY])

    def __init__(self) -> None:
        self.users: dict[str, DirectoryUser] = {}
        self.teams: dict[str, DirectoryTeam] = {}

    def apply(self, event: RecordedEvent) -> None:
        data: dict[str, Any] = dict(event.data)
        key = event.stream.partition("-")[2]
        match event.type:
            case "UserRegistered":
                self.users[key] = DirectoryUser(
                    str(data.get("user_id", key)),
                    str(data.get("name", key)),
                    str(data.get("time_zone", "UTC")),
                )
            case "UserTimeZoneChanged":
                if key in self.users:
                    self.users[key].time_zone = str(data.get("time_zone", "UTC"))
            case "ContactMethodAdded":
                method = data.get("method") or {}
                if key in self.users and isinstance(method, dict):
                    self.users[key].methods[str(method.get("method_id"))] = (
                        str(method.get("kind")),
                        str(method.get("address")),
                    )
            case "ContactMethodRemoved":
                if key in self.users:
                    self.users[key].methods.pop(str(data.get("method_id")), None)
            case "TeamCreated" | "TeamChanged":
                self.teams[key] = DirectoryTeam(
                    key, str(data.get("name", key)), tuple(data.get("members") or ())
                )

    def user(self, user_id: str) -> DirectoryUser | None:
        return self.users.get(user_id)

    def targets(self, user_id: str) -> list[ac.Target]:
        user = self.users.get(user_id)
        if user is None:
            return []
        return [
            ac.Target(user_id=user_id, method_id=method_id, kind=kind, address=address)
            for method_id, (kind, address) in user.methods.items()
        ]

    def teams_of(self, user_id: str) -> list[DirectoryTeam]:
        return [team for team in self.teams.values() if user_id in team.members]

    def people(self) -> list[str]:
        """Every id and full name, for the blameless check."""
        names: list[str] = []
        for user in self.users.values():
            names.append(user.user_id)
            names.append(user.name)
            # First and last names on their own ("Alice" of "Alice Example"), but not
            # ordinary words of a role-like name ("On-call engineer").
            parts = user.name.split()
            if len(parts) > 1:
                names.extend(p for p in parts if len(p) >= 3 and p.isalpha() and p[0].isupper())
        return names


@dataclass(frozen=True, slots=True)
class DueEntry:
    stream: str
    due: ac.Due
    generation: int


class PostmortemModel(AggregateStates):
    """Every postmortem and action item, the items per incident and the due index."""

    def __init__(self, deciders: Iterable[Decider[Any, Any]], policy: ac.ReminderPolicy) -> None:
        super().__init__("postmortem.model", EVENTS, deciders)
        self.policy = policy
        self.items_by_incident: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.positions: dict[str, int] = {}
        """Each stream's last position (for webhooks and read-your-writes)."""
        self._heap: list[tuple[datetime, int, DueEntry]] = []
        self._generation: dict[str, int] = {}
        self._pushed = 0

    def apply(self, event: RecordedEvent) -> None:
        super().apply(event)
        self.positions[event.stream] = event.position
        if event.category != ac.STREAM_CATEGORY or event.type not in EVENTS:
            return
        state: ac.ActionItem = self.state(event.stream)[0]
        if event.type == "ActionItemAdded" and state.incident_id and state.action_id:
            self.items_by_incident.setdefault(state.incident_id, []).append(state.action_id)
        generation = self._generation.get(event.stream, 0) + 1
        self._generation[event.stream] = generation
        for due in ac.next_due(state, self.policy):
            self._pushed += 1
            heapq.heappush(
                self._heap, (due.due_at, self._pushed, DueEntry(event.stream, due, generation))
            )
        if len(self._heap) > 4 * max(len(self._generation), 16):
            self._heap = [e for e in self._heap if self._current(e[2])]
            heapq.heapify(self._heap)

    def _current(self, entry: DueEntry) -> bool:
        return self._generation.get(entry.stream) == entry.generation

    def due(self, now: datetime) -> list[DueEntry]:
        """Current work due at `now`, oldest first. Entries stay until an event about
        their stream replaces them, so a failed attempt is found again next tick."""
        ready: list[tuple[datetime, int, DueEntry]] = []
        while self._heap and self._heap[0][0] <= now:
            entry = heapq.heappop(self._heap)
            if self._current(entry[2]):
                ready.append(entry)
        for entry in ready:
            heapq.heappush(self._heap, entry)
        return [entry[2] for entry in sorted(ready, key=lambda e: (e[0], e[1]))]

    def postmortems(self) -> list[pm.Postmortem]:
        return [s for s in self.states(pm.STREAM_CATEGORY) if s.exists]

    def action_items(self) -> list[ac.ActionItem]:
        return [s for s in self.states(ac.STREAM_CATEGORY) if s.exists]

    def items_of(self, incident_id: uuid.UUID) -> list[ac.ActionItem]:
        return [
            self.state(ac.stream_for(action_id))[0]
            for action_id in self.items_by_incident.get(incident_id, [])
        ]
