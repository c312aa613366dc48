"""The renderer plug-in point: how a service shows one of its streams as it stood then.

Owns the contract between the services that own stream categories and whoever replays
history (the audit service): the `firewatch.renderers` entry-point group, the
`Renderer` signature, the `AsOfLog` a renderer reads other streams through, and the
registry that loads every installed service's renderers and refuses a category two
services claim. It never renders anything itself and never imports a service: each
service registers `<service>_service.rendering:RENDERERS` (a `Renderers`) in its
pyproject.toml, built from the same message builders its live API uses, so a replay
shows exactly what that API answered at the instant.

A renderer is `render(stream, events, log) -> message | None`:
- `stream` is the stream's name and `events` its events cut at the as-of point (never
  empty);
- `log` reads *other* streams cut at the same point, and says what "now" was then
  (`log.at`, for answers that depend on the clock: an overdue action item, an active
  silence);
- it returns the protobuf message the service's live API returns for that aggregate,
  or None when it has nothing to say (the category is not its own, or the API would
  not show this stream).

Pure except for reading the store through `AsOfLog`: no clock, no network, no writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, TypeVar

from eventlog import EventFilter, EventStore, RecordedEvent

ENTRY_POINT_GROUP = "firewatch.renderers"
"""Each service names its `Renderers` here: `paging = "paging_service.rendering:RENDERERS"`."""


class AsOfProjection(Protocol):
    """What `AsOfLog.project` folds: appkit's `Projection` shape (name, filter, apply)."""

    @property
    def filter(self) -> EventFilter | None: ...

    def apply(self, event: RecordedEvent) -> None: ...


P = TypeVar("P", bound=AsOfProjection)


@dataclass(frozen=True)
class AsOfLog:
    """The log cut at one point: at or before `to_position` (if set) and recorded at or
    before `until` (if set), as `EventStore.read_stream`/`read_all` cut it. `at` is the
    instant that point stands for: "now" for a renderer."""

    store: EventStore
    at: datetime
    to_position: int | None = None
    until: datetime | None = None

    def stream(self, name: str) -> list[RecordedEvent]:
        """One stream's events as they stood (empty if it did not exist yet)."""
        return self.store.read_stream(name, to_position=self.to_position, until=self.until)

    def events(self, filter: EventFilter | None = None) -> Iterator[RecordedEvent]:
        """Every event (of `filter`) as it stood, in log order."""
        return self.store.read_all(filter=filter, to_position=self.to_position, until=self.until)

    def project(self, create: Callable[[], P]) -> P:
        """A service's own read model (a pure fold) as it stood: what its live API's
        queries read, rebuilt at this point."""
        projection = create()
        for event in self.events(projection.filter):
            projection.apply(event)
        return projection


class Renderer(Protocol):
    def __call__(
        self, stream: str, events: Sequence[RecordedEvent], log: AsOfLog
    ) -> Any | None:  # a protobuf message; typed Any so appkit needs no protobuf
        ...


@dataclass(frozen=True)
class Renderers:
    """One service's renderers, by the stream category each renders."""

    owner: str
    by_category: Mapping[str, Renderer] = field(default_factory=dict)


class DuplicateRendererError(RuntimeError):
    """Two installed services claim to render the same stream category."""


@dataclass(frozen=True)
class Registered:
    owner: str
    source: str
    """Where it came from: the entry point's value (`paging_service.rendering:RENDERERS`)."""
    render: Renderer

    @property
    def name(self) -> str:
        """What an auditor is told rendered a stream: `module:function`."""
        module = getattr(self.render, "__module__", "?")
        function = getattr(self.render, "__qualname__", type(self.render).__name__)
        return f"{module}:{function}"


class RendererRegistry:
    """Every category's one renderer, merged from several services' `Renderers`."""

    def __init__(self, sources: Sequence[tuple[str, Renderers]] = ()) -> None:
        self._by_category: dict[str, Registered] = {}
        for source, renderers in sources:
            self.add(renderers, source=source)

    def add(self, renderers: Renderers, *, source: str = "") -> None:
        for category, render in renderers.by_category.items():
            known = self._by_category.get(category)
            if known is not None:
                raise DuplicateRendererError(
                    f"stream category {category!r} has two renderers: "
                    f"{known.owner} ({known.source or known.name}) and "
                    f"{renderers.owner} ({source or Registered(renderers.owner, '', render).name})"
                )
            self._by_category[category] = Registered(renderers.owner, source, render)

    def get(self, category: str) -> Registered | None:
        return self._by_category.get(category)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(self._by_category)


def load_entry_point(entry: EntryPoint) -> Renderers:
    loaded = entry.load()
    if not isinstance(loaded, Renderers):
        raise TypeError(
            f"entry point {entry.name} = {entry.value} in {ENTRY_POINT_GROUP} is not an "
            f"appkit.rendering.Renderers (got {type(loaded).__name__})"
        )
    return loaded


def installed_renderers() -> RendererRegistry:
    """Every installed service's renderers (the `firewatch.renderers` entry points).
    Raises DuplicateRendererError naming both owners when two claim one category."""
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    return RendererRegistry([(entry.value, load_entry_point(entry)) for entry in found])
