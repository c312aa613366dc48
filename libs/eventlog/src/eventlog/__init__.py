"""Firewatch event log: an append-only, hash-chained log behind one small port.

Import the port and value types from here; open a backend with `open_store(url)`.
"""

from eventlog.chain import Finding, Tampering, VerificationReport
from eventlog.clock import Clock, FakeClock, system_clock
from eventlog.errors import (
    AtomicAppendUnsupportedError,
    BackendUnavailableError,
    ConcurrencyError,
    DuplicateEventIdError,
    EventLogError,
    InvalidEventError,
    StreamPermissionError,
)
from eventlog.factory import open_store
from eventlog.identity import PlatformIdentity, PlatformIdentityError
from eventlog.model import (
    GENESIS_HASH,
    AppendResult,
    EventFilter,
    EventMetadata,
    ExpectedVersion,
    NewEvent,
    RecordedEvent,
    StreamState,
    category_of,
)
from eventlog.ownership import PLATFORM_OWNERSHIP, Ownership
from eventlog.port import AppendWatch, EventStore, StreamAppend, Subscription
from eventlog.validation import MAX_EVENT_BYTES

__all__ = [
    "GENESIS_HASH",
    "MAX_EVENT_BYTES",
    "PLATFORM_OWNERSHIP",
    "AppendResult",
    "AppendWatch",
    "AtomicAppendUnsupportedError",
    "BackendUnavailableError",
    "Clock",
    "ConcurrencyError",
    "DuplicateEventIdError",
    "EventFilter",
    "EventLogError",
    "EventMetadata",
    "EventStore",
    "ExpectedVersion",
    "FakeClock",
    "Finding",
    "InvalidEventError",
    "NewEvent",
    "Ownership",
    "PlatformIdentity",
    "PlatformIdentityError",
    "RecordedEvent",
    "StreamAppend",
    "StreamPermissionError",
    "StreamState",
    "Subscription",
    "Tampering",
    "VerificationReport",
    "category_of",
    "open_store",
    "system_clock",
]
