"""The audit application: load, check, render, and record every access.

Owns the audit use cases over the one logical log. It reads every category through
the event log and appends only to its own (`auditaccess-*` for access records,
`auditseal-log` for seals and key rotations); it never changes another service's facts.
Pure logic lives in seals.py, replay.py, bundle.py and explain.py; this module only
loads events, calls them and appends the results.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apikit.tokens import Listed, credentials_at
from audit_service import backtest, bundle, explain, oncall, seals
from audit_service import replay as rp
from audit_service.events import EVENTS, AuditRecordAccessed
from audit_service.keys import SigningKey, digest
from audit_service.replay import AsOf
from contracts.domain import (
    InvalidCommandError,
    NotFoundError,
    PreconditionFailedError,
    required_text,
)
from eventlog import (
    Clock,
    EventMetadata,
    EventStore,
    NewEvent,
    RecordedEvent,
    StreamState,
    VerificationReport,
)
from eventlog.chain import format_timestamp

log = logging.getLogger(__name__)

ACCESS_EVENT = AuditRecordAccessed.event_type()


def _record_id(record: dict[str, Any]) -> uuid.UUID:
    """Derived from the record, so re-storing the same record is an idempotent no-op."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"firewatch-seal/{digest(record)}")


class AuditApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        key: SigningKey | None = None,
        seal_file: Path | None = None,
        notary_url: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.key = key
        self.seal_file = seal_file
        self.notary_url = notary_url
        self._notary_pending: list[dict[str, Any]] = []
        self._seal_lock = threading.Lock()
        self._book: seals.SealBook | None = None
        self._tracker = seals.HeadTracker()

    # ------------------------------------------------------------------ access records

    def record_access(
        self, who: str, method: str, target: str, *, credential: str | None = None
    ) -> None:
        """Append who read what, now, and with which API token (`credential`, when the
        reader is a person a token is bound to). One stream per UTC day keeps streams
        short."""
        now = self.clock()
        event = AuditRecordAccessed(principal=who, method=method, target=target)
        self.store.append(
            f"auditaccess-{now:%Y%m%d}",
            [EVENTS.to_new_event(event, metadata=EventMetadata(actor=who, credential=credential))],
            StreamState.ANY,
        )

    # ------------------------------------------------------------------ verification

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerificationReport:
        return self.store.verify_all(progress)

    def check_seals(
        self, records: list[dict[str, Any]], trusted_key_ids: list[str]
    ) -> seals.SealCheck:
        head = self.store.head_position()
        return seals.check_log(records, self.store.read_all(), head, trusted_key_ids)

    # ------------------------------------------------------------------ sealing

    def _load_book(self) -> seals.SealBook:
        if self._book is None:
            recorded = self.store.read_stream(seals.SEAL_STREAM)
            self._book = seals.SealBook([dict(e.data) for e in recorded])
            if self.seal_file is not None:
                self._catch_up_file(self._book)
        return self._book

    def _catch_up_file(self, book: seals.SealBook) -> None:
        """Copy to the file any record the log has and the file lacks (a crash between
        the two writes), so the outside copy is never behind for long."""
        assert self.seal_file is not None
        have = len(seals.read_file(self.seal_file)) if self.seal_file.exists() else 0
        for record in book.records[have:]:
            seals.append_to_file(self.seal_file, record)

    def _store_record(self, book: seals.SealBook, record: dict[str, Any]) -> None:
        expected = record["sequence"] - 1 if record["sequence"] else StreamState.NO_STREAM
        event_type = seals.KEY_EVENT if record["kind"] == "key" else seals.SEAL_EVENT
        try:
            # The record is stored as it was signed (the dict, not a model's dump); the
            # contract only checks it, so a record that drifted from it is never written.
            EVENTS.load(event_type, 1, record)
            self.store.append(
                seals.SEAL_STREAM,
                [NewEvent(event_type, record, id=_record_id(record))],
                expected,
            )
        except Exception:
            book.records.pop()
            self._book = None
            raise
        if self.seal_file is not None:
            seals.append_to_file(self.seal_file, record)
        if self.notary_url is not None:
            self._notify(record)

    def _notify(self, record: dict[str, Any]) -> None:
        """Send the record (and any the notary missed before) to the external notary.
        A notary that is down never blocks sealing: the record is in the log and the
        file, and it is resent with the next seal."""
        assert self.notary_url is not None
        self._notary_pending.append(record)
        while self._notary_pending:
            try:
                seals.post_to_notary(self.notary_url, self._notary_pending[0])
            except OSError as error:
                log.warning(
                    "seal notary %s unreachable (%s); %d record(s) will be resent",
                    self.notary_url,
                    error,
                    len(self._notary_pending),
                )
                return
            self._notary_pending.pop(0)

    def rotate_key(self, new: SigningKey) -> dict[str, Any]:
        """Adopt `new` as the sealing key, endorsed by the current one (if any)."""
        with self._seal_lock:
            book = self._load_book()
            record = book.adopt_key(new, self.key, format_timestamp(self.clock()))
            self._store_record(book, record)
            self.key = new
            return record

    def seal(self) -> dict[str, Any]:
        """Seal the log as it stands now."""
        if self.key is None:
            raise PreconditionFailedError("no sealing key is configured (FIREWATCH_AUDIT_KEY_FILE)")
        with self._seal_lock:
            book = self._load_book()
            if book.active_key_id is None:
                self._store_record(
                    book, book.adopt_key(self.key, None, format_timestamp(self.clock()))
                )
            elif book.active_key_id != self.key.key_id:
                raise PreconditionFailedError(
                    f"the configured key {self.key.key_id} is not the active sealing key "
                    f"{book.active_key_id}; rotate to it first"
                )
            head = self.store.head_position()
            self._tracker.advance(
                self.store.read_all(from_position=self._tracker.position + 1, to_position=head)
            )
            record = book.seal(
                self.key, head, dict(self._tracker.heads), format_timestamp(self.clock())
            )
            self._store_record(book, record)
            return record

    # ------------------------------------------------------------------ reading

    def replay(self, target: str, as_of: AsOf) -> rp.Replayed:
        return rp.replay(self.store, target, as_of, clock=self.clock)

    def diff(self, stream: str, start: AsOf, end: AsOf) -> rp.Diff:
        return rp.diff(self.store, stream, start, end, clock=self.clock)

    def timeline(self, incident: str, as_of: AsOf) -> tuple[uuid.UUID, list[RecordedEvent]]:
        incident_id = rp.incident_id_of(self.store, required_text(incident, "incident"))
        return incident_id, rp.correlated_events(self.store, incident_id, as_of)

    def export(self, incident: str) -> tuple[str, dict[str, Any]]:
        """The incident's signed evidence bundle and its reference (INC-N)."""
        if self.key is None:
            raise PreconditionFailedError("no signing key is configured (FIREWATCH_AUDIT_KEY_FILE)")
        incident_id, events = self.timeline(incident, AsOf())
        own = [e for e in events if e.category == "incident"]
        number = own[0].data.get("number") if own else None
        reference = f"INC-{number}" if number else str(incident_id)
        records = [dict(e.data) for e in self.store.read_stream(seals.SEAL_STREAM)]
        configuration = oncall.configuration_in_force(self.store, events)
        document = bundle.build_bundle(
            self.store,
            incident_id=incident_id,
            reference=reference,
            incident_stream=own[0].stream if own else f"incident-{incident_id}",
            correlated=events,
            seal_records=records,
            key=self.key,
            exported_at=format_timestamp(self.clock()),
            configuration=configuration,
        )
        return reference, document

    def why_paged(self, page: str) -> list[explain.Step]:
        target = required_text(page, "page")
        stream = target if target.startswith("page-") else f"page-{target}"
        page_events = self.store.read_stream(stream)
        if not page_events:
            raise NotFoundError(f"page {target} does not exist")
        everything = list(self.store.read_all())
        incident = page_events[0].data.get("incident_id")
        escalation = [e for e in everything if e.stream == f"escalation-{incident}"]
        alerts = [e for e in everything if e.type in ("AlertPending", "AlertTriggered")]
        return explain.why_paged(page_events, explain.index_by_id(everything), escalation, alerts)

    def why_not(self, user: str, incident: str) -> tuple[str, list[explain.Step]]:
        who = required_text(user, "user")
        _, events = self.timeline(incident, AsOf())
        displaced = oncall.displaced_by_override(self.store, events, who)
        return explain.why_not(who, events, displaced)

    def instant(self, as_of: datetime | None, field: str = "as_of") -> datetime:
        """The instant a question is answered for: `as_of`, or now when unset; the
        future is refused (the log cannot say what will be live)."""
        now = self.clock()
        if as_of is not None and as_of > now:
            raise InvalidCommandError(
                field, f"{as_of.isoformat()} is in the future; the log answers up to now"
            )
        return as_of or now

    def credentials(self, at: datetime, *, writers_only: bool = False) -> list[Listed]:
        """Every API token the log records as it stood at `at`, judged at that
        instant; with `writers_only`, those that could write then (apikit.tokens:
        active, and a role and service scope that can append facts)."""
        rows = credentials_at(self.store, at, at)
        return [row for row in rows if row.could_write or not writers_only]

    def backtest(self, start: datetime, end: datetime, proposal_text: str) -> dict[str, Any]:
        """Never appends: reads the period and simulates the proposal in memory."""
        if end <= start:
            raise InvalidCommandError("to", "must be later than 'from'")
        proposal = backtest.parse_proposal(proposal_text)
        first = self.store.position_at(start) + 1
        events = list(self.store.read_all(from_position=first, until=end))
        proposed = backtest.simulate(backtest.recorded_alerts(events), proposal)
        real = backtest.actual(events, proposal.paging.business_hours)
        return backtest.report(proposed, real, proposal.paging.ack_minutes)
