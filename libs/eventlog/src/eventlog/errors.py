"""Every error the event log raises. Each message names the field or stream at fault.

Callers map these to their own protocol (gRPC ABORTED for a concurrency conflict,
INVALID_ARGUMENT for bad input, PERMISSION_DENIED for ownership); the log itself never
knows about those protocols.
"""

from __future__ import annotations

from eventlog.model import StreamState


class EventLogError(Exception):
    """Base class for everything the event log raises on purpose."""


class InvalidEventError(EventLogError, ValueError):
    """Input rejected before anything was written. `field` names what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class ConcurrencyError(EventLogError):
    """The stream was not at the version the writer expected; nothing was appended."""

    def __init__(self, stream: str, expected: object, actual: int | None) -> None:
        self.stream = stream
        self.expected = expected
        self.actual = actual
        actual_text = "no stream" if actual is None else f"version {actual}"
        super().__init__(
            f"stream {stream!r}: expected {_describe_expected(expected)}, "
            f"but the stream is at {actual_text}"
        )


class StreamPermissionError(EventLogError, PermissionError):
    """The writer does not own the stream's category; nothing was appended."""

    def __init__(self, writer: str | None, stream: str, owned: frozenset[str]) -> None:
        self.writer = writer
        self.stream = stream
        self.owned = owned
        if writer is None:
            message = f"this store handle is read-only; it cannot append to {stream!r}"
        else:
            allowed = ", ".join(sorted(f"{c}-*" for c in owned)) or "nothing"
            message = f"writer {writer!r} may not append to {stream!r}: it owns only {allowed}"
        super().__init__(message)


class DuplicateEventIdError(EventLogError):
    """Some (not all) of a batch's ids were already appended, or an id is used elsewhere.

    A retry must resend exactly the batch that was first sent, so a partial overlap is a
    caller bug rather than something to silently merge.
    """


class BackendUnavailableError(EventLogError):
    """The backend could not be reached or answered with an unexpected failure."""


class AtomicAppendUnsupportedError(EventLogError):
    """`append_many` over several streams on a backend that cannot commit them in one
    transaction; nothing was appended. Check `EventStore.atomic_append_many` first and
    append stream by stream instead (ADR 0024)."""


def _describe_expected(expected: object) -> str:
    if expected is StreamState.NO_STREAM:
        return "no stream"
    if expected is StreamState.EXISTS:
        return "an existing stream"
    if expected is StreamState.ANY:
        return "any version"
    return f"version {expected}"
