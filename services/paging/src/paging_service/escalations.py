"""The escalation runtime's commands: what incidents and responders do to paging.

Owns starting an incident's escalation (with a snapshot of its policy and the urgency
of its severity), raising its urgency, cancelling it when the incident is resolved,
acknowledgements (a page, or the incident as a whole, also by signed link), delivery
outcomes reported by the adapters, and reading escalations and pages. It also owns
the two things the scheduler (`scheduler.py`) shares with it: running a command on an
escalation or a page, and closing an escalation's open pages.

Each use case is a few lines over the kit's command runner (ADR 0013). Keys name what
caused a decision (`start`, `cancel`, `ack/<round>`, `outcome/<method>/<attempt>`), so a
retried or racing identical decision appends the same ids; paging's runner decides
again rather than replaying, because a key such as `outcome/...` is a slot that a
report and a timeout compete for (ADR 0009, 0011).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from appkit import CommandResult, CommandRunner
from contracts.domain import InvalidCommandError, NotFoundError, PreconditionFailedError
from eventlog.clock import Clock
from paging_service import ack_token
from paging_service import escalation as esc
from paging_service import page as pg
from paging_service import policy as pol
from paging_service.aggregates import ESCALATION, POLICY, page_aggregate
from paging_service.common import build
from paging_service.directory import directory_id
from paging_service.policy import UrgencyRules


@dataclass
class AckLinks:
    """The one-click acknowledgement links: the signing secret (None: links disabled),
    where the ack site is served and how long a link stays valid. Mutable: an adapter
    may learn its URL only once its server listens."""

    secret: bytes | None = None
    url_base: str | None = None
    ttl: timedelta = timedelta(hours=24)

    def for_page(self, page_id: uuid.UUID, user_id: str, now: datetime) -> tuple[str, str | None]:
        """A signed token for `user_id` to acknowledge `page_id`, and its URL if known."""
        assert self.secret is not None
        token = ack_token.issue(self.secret, page_id, user_id, now + self.ttl)
        url = f"{self.url_base.rstrip('/')}/{token}" if self.url_base else None
        return token, url


class Escalations:
    def __init__(
        self,
        runner: CommandRunner,
        clock: Clock,
        *,
        urgency: UrgencyRules,
        retry: pg.RetryPolicy,
        links: AckLinks,
    ) -> None:
        self.runner = runner
        self.clock = clock
        self.urgency = urgency
        self.retry = retry
        self.links = links
        self.pages = page_aggregate(retry)

    # ------------------------------------------------------------------ incidents

    def start_escalation(
        self,
        incident_id: uuid.UUID,
        severity: str,
        policy_id: str,
        *,
        service: str | None = None,
        title: str = "",
        causation_id: str | None = None,
    ) -> esc.Escalation:
        """Start paging for an incident (the worker calls this on IncidentDeclared).

        Snapshots the policy as it is now. Idempotent: a second call for the same
        incident, or one after the incident was resolved, changes nothing. The first
        step is due at once; call `tick()` to fire it."""
        at = self.clock()
        policy = self.runner.read(POLICY, pol.stream_for(directory_id(policy_id, "policy"))).state
        if not policy.created:
            raise InvalidCommandError("policy", f"unknown escalation policy {policy_id!r}")
        parsed = build(
            esc.StartEscalation,
            at=at,
            incident_id=incident_id,
            policy=policy.snapshot(),
            severity=severity,
            urgency="high",
            service=service,
            title=title[:500],
        )
        command = parsed.model_copy(
            update={"urgency": self.urgency.urgency(parsed.severity, service)}
        )
        return self.escalate(incident_id, command, key="start", causation_id=causation_id)

    def raise_severity(
        self, incident_id: uuid.UUID, severity: str, *, causation_id: str | None = None
    ) -> esc.Escalation:
        """Re-evaluate urgency after the incident's severity changed (either way; only a
        rise to high urgency changes what happens next)."""
        state = self.get_escalation(incident_id)
        sev = build(esc.ChangeSeverity, at=self.clock(), severity=severity, urgency="high")
        command = sev.model_copy(
            update={"urgency": self.urgency.urgency(sev.severity, state.service)}
        )
        key = f"severity/{causation_id}" if causation_id else None
        return self.escalate(incident_id, command, key=key, causation_id=causation_id)

    def incident_resolved(
        self, incident_id: uuid.UUID, *, causation_id: str | None = None
    ) -> esc.Escalation:
        """Cancel everything pending for the incident (also if paging never started:
        a late IncidentDeclared then starts nothing)."""
        command = esc.Cancel(at=self.clock(), reason="incident resolved")
        state = self.escalate(incident_id, command, key="cancel", causation_id=causation_id)
        self.close_pages(state, self.clock())
        return state

    # ------------------------------------------------------------------ responders

    def acknowledge(
        self,
        *,
        by: str,
        page_id: uuid.UUID | None = None,
        incident_id: uuid.UUID | None = None,
        via: str = "api",
        as_person: bool = False,
    ) -> esc.Escalation:
        """Acknowledge one page, or an incident's paging as a whole: stops the
        escalation (scheduling the un-ack timeout if the policy has one) and closes
        every open page of the incident.

        `as_person`: `by` is a person (the paged user of a signed link, or the user an
        API token is bound to), who must have been paged for the incident, and for a
        page, must be the one it was sent to (docs/adr/0017)."""
        channel = build(pg.AcknowledgePage, at=self.clock(), by=by, via=via)
        if page_id is None and incident_id is None:
            raise InvalidCommandError("page_id", "name the page or the incident to acknowledge")
        if page_id is not None:
            page_state = self.runner.read(self.pages, pg.stream_for(page_id)).state
            if page_state.status is pg.Status.NONE:
                raise NotFoundError(f"page {page_id} does not exist")
            assert page_state.incident_id is not None
            if incident_id is not None and incident_id != page_state.incident_id:
                raise InvalidCommandError(
                    "incident_id", f"page {page_id} belongs to another incident"
                )
            if as_person and page_state.user_id != by:
                raise PreconditionFailedError(
                    f"page {page_id} was sent to {page_state.user_id}, not {by}; "
                    "acknowledge your own page, or the incident"
                )
            incident_id = page_state.incident_id
        assert incident_id is not None
        current = self.get_escalation(incident_id)
        command = esc.Acknowledge(
            at=channel.at,
            by=channel.by,
            page_id=page_id,
            via=channel.via.value,
            paged_only=as_person,
        )
        state = self.escalate(
            incident_id, command, key=f"ack/{current.round}", causation_id=None, actor=by
        )
        if page_id is not None:
            self.page(page_id, channel, key="ack", actor=by)
        self.close_pages(state, channel.at)
        return state

    def acknowledge_with_token(self, token: str) -> esc.Escalation:
        """The one-click link: verify the signed token, then acknowledge its page."""
        if self.links.secret is None:
            raise InvalidCommandError("token", "acknowledgement links are not enabled")
        claim = ack_token.verify(self.links.secret, token, self.clock())
        # The link names the page's own user: the person who acts is the one paged.
        return self.acknowledge(by=claim.user_id, page_id=claim.page_id, via="link", as_person=True)

    def record_delivery_outcome(
        self,
        page_id: uuid.UUID,
        method_id: str,
        attempt: int,
        *,
        delivered: bool,
        reason: str = "",
        permanent: bool = False,
        unknown: bool = False,
        actor: str = "paging",
    ) -> CommandResult[pg.Page]:
        """What happened to a Delivery returned by `tick()`. Idempotent. `unknown`:
        handed over without an answer, sent again labelled (notify's outcome kinds)."""
        command = build(
            pg.RecordOutcome,
            at=self.clock(),
            method_id=method_id,
            attempt=attempt,
            delivered=delivered,
            reason=reason[:2000],
            permanent=permanent,
            unknown=unknown,
        )
        return self.page(page_id, command, key=f"outcome/{method_id}/{attempt}", actor=actor)

    # ------------------------------------------------------------------ reads

    def get_escalation(
        self, incident_id: uuid.UUID, *, as_of: datetime | None = None
    ) -> esc.Escalation:
        state = self.runner.read(ESCALATION, esc.stream_for(incident_id), until=as_of).state
        if state.status is esc.Status.NOT_STARTED:
            raise NotFoundError(f"no escalation for incident {incident_id}")
        return state

    def list_pages(self, incident_id: uuid.UUID) -> list[pg.Page]:
        state = self.get_escalation(incident_id)
        pages = [self.runner.read(self.pages, pg.stream_for(pid)).state for pid in state.page_ids]
        return [p for p in pages if p.status is not pg.Status.NONE]

    def get_page(self, page_id: uuid.UUID) -> pg.Page:
        state = self.runner.read(self.pages, pg.stream_for(page_id)).state
        if state.status is pg.Status.NONE:
            raise NotFoundError(f"page {page_id} does not exist")
        return state

    # ------------------------------------------------------------------ shared with the scheduler

    def escalate(
        self,
        incident_id: uuid.UUID,
        command: esc.EscalationCommand,
        *,
        key: str | None,
        causation_id: str | None,
        actor: str = "paging",
    ) -> esc.Escalation:
        """Run a command on the incident's escalation; the escalation after it."""
        return self.runner.execute(
            ESCALATION,
            esc.stream_for(incident_id),
            command,
            actor=actor,
            key=key,
            causation_id=causation_id,
        ).state

    def page(
        self,
        page_id: uuid.UUID,
        command: pg.PageCommand,
        *,
        key: str | None,
        actor: str = "paging",
    ) -> CommandResult[pg.Page]:
        return self.runner.execute(
            self.pages, pg.stream_for(page_id), command, actor=actor, key=key
        )

    def close_pages(self, state: esc.Escalation, at: datetime) -> None:
        for page_id in state.page_ids:
            self.close_page(state, page_id, at)

    def close_page(
        self, state: esc.Escalation, page_id: uuid.UUID, at: datetime, *, actor: str = "paging"
    ) -> None:
        """Acknowledge the page the escalation was acknowledged by; cancel the others."""
        page_state = self.runner.read(self.pages, pg.stream_for(page_id)).state
        if page_state.status is not pg.Status.OPEN:
            return
        command: pg.PageCommand
        if state.status is esc.Status.ACKNOWLEDGED and state.acknowledged_page == page_id:
            command = build(
                pg.AcknowledgePage,
                at=at,
                by=state.acknowledged_by or "unknown",
                via=state.acknowledged_via,
            )
            key = "ack"
        else:
            if state.status is esc.Status.ACKNOWLEDGED:
                reason = f"incident acknowledged by {state.acknowledged_by}"
            elif state.status is esc.Status.CANCELLED:
                reason = state.cancel_reason or "incident resolved"
            else:
                reason = "superseded by a new escalation round"
            command = pg.CancelPage(at=at, reason=reason)
            key = "close"
        self.page(page_id, command, key=key, actor=actor)
