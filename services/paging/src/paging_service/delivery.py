"""Delivery: one recorded attempt (`app.Delivery`) becomes one real send via libs/notify.

Owns the translation from the paging model to a `notify.Notification` and the choice
of channel per contact kind; nothing else. It never records, retries or schedules:
`PagingApplication.tick()` has already recorded the attempt (PageDeliveryAttempted)
before handing it out, and the caller reports the outcome with
`record_delivery_outcome`. `Courier.send` blocks on the network (SMTP, HTTP with
timeouts) and never raises, so the caller may run it in a real thread
(`eventlet.tpool`) without special error paths. Framework-free: usable from the nameko
worker, a plain thread or a test.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from notify import (
    Channel,
    DeliveryOutcome,
    EmailChannel,
    Notification,
    SlackChannel,
    WebhookChannel,
)
from paging_service.app import Delivery, PagingApplication
from paging_service.settings import PagingSettings
from paging_service.user import ContactKind

log = logging.getLogger(__name__)

INCIDENT_CATEGORY = "incident"
"""The incident service's stream category (its published log layout): paging reads the
declaration for the human reference ("INC-42"); it never writes there."""
RUNBOOKS_CATEGORY = "rbincident"
"""The runbooks service's per-incident stream (its published log layout): its first
event, RunbooksAttached, names the runbooks that matched and the alerts' runbook_url
links. A page links what is attached when it is sent (usually within milliseconds of
the declaration; a page that wins the race goes without)."""


@dataclass(frozen=True, slots=True)
class IncidentContext:
    """What a page says about its incident beyond the Delivery itself."""

    reference: str
    severity: str
    service: str | None
    runbooks: tuple[str, ...] = ()


def incident_context(app: PagingApplication, incident_id: uuid.UUID) -> IncidentContext:
    """Read (short store calls) the incident's reference and current severity.

    The severity comes from the escalation (it follows SeverityChanged); the number
    from the incident's own IncidentDeclared, which any service may read."""
    escalation = app.get_escalation(incident_id)
    reference = f"incident {str(incident_id)[:8]}"
    declared = app.store.read_stream(f"{INCIDENT_CATEGORY}-{incident_id}", limit=1)
    if declared and isinstance(declared[0].data.get("number"), int):
        reference = f"INC-{declared[0].data['number']}"
    severity = escalation.severity.value if escalation.severity is not None else "P?"
    return IncidentContext(
        reference, severity, escalation.service, runbook_lines(app, incident_id, reference)
    )


def runbook_lines(
    app: PagingApplication, incident_id: uuid.UUID, reference: str
) -> tuple[str, ...]:
    """A tolerant read of runbooks' RunbooksAttached: a line per runbook, then links."""
    attached = app.store.read_stream(f"{RUNBOOKS_CATEGORY}-{incident_id}", limit=1)
    if not attached or attached[0].type != "RunbooksAttached":
        return ()
    data = attached[0].data
    lines: list[str] = []
    for runbook in data.get("runbooks") or []:
        if isinstance(runbook, dict) and runbook.get("runbook_id"):
            lines.append(
                f"{runbook.get('title', '')} ({runbook['runbook_id']} rev "
                f"{runbook.get('revision', '?')}): incidentctl runbook show {reference}"
            )
    lines.extend(str(link) for link in data.get("external_links") or [] if link)
    return tuple(lines[:5])


def notification(delivery: Delivery, context: IncidentContext) -> Notification:
    where = f" on {context.service}" if context.service else ""
    if delivery.to_operators:
        summary = (
            f"{context.reference}{where} needs a responder, and every level of its "
            "escalation policy failed to reach anyone (no contact method delivered). "
            "This is the platform's fallback route: find a responder now, and fix the "
            "on-call configuration or contact methods afterwards."
        )
    else:
        summary = (
            f"{context.reference}{where} needs a responder and you are on call. "
            "Acknowledge to stop the escalation; otherwise it goes to the next level."
        )
    return Notification(
        kind="page",
        recipient=delivery.user_id,
        incident_reference=context.reference,
        incident_id=str(delivery.incident_id),
        title=delivery.title,
        severity=context.severity,
        summary=summary,
        ack_url=delivery.ack_url,
        # Stable per recorded attempt (for a possible repeat: the attempt it may
        # repeat): the email Message-ID and the webhooks' Idempotency-Key, so receivers
        # that deduplicate drop a repeat.
        idempotency_key=str(delivery.idempotency_key or delivery.attempt_event_id),
        possible_repeat=delivery.possible_repeat,
        runbooks=context.runbooks,
    )


class Courier:
    """Sends a Delivery through the channel of its contact kind."""

    def __init__(self, channels: Mapping[ContactKind, Channel]) -> None:
        self.channels = dict(channels)

    @classmethod
    def from_settings(cls, settings: PagingSettings) -> Courier:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            {
                ContactKind.EMAIL: EmailChannel(
                    settings.smtp_host,
                    settings.smtp_port,
                    sender=settings.smtp_sender,
                    starttls=settings.smtp_starttls,
                    username=settings.smtp_username,
                    password=password,
                    timeout=settings.smtp_timeout_seconds,
                ),
                ContactKind.WEBHOOK: WebhookChannel(timeout=settings.webhook_timeout_seconds),
                ContactKind.SLACK: SlackChannel(timeout=settings.webhook_timeout_seconds),
            }
        )

    def close(self) -> None:
        """Close the channels' idle connections (email keeps some for reuse)."""
        for channel in self.channels.values():
            if isinstance(channel, EmailChannel):
                channel.close()

    def send(self, delivery: Delivery, context: IncidentContext) -> DeliveryOutcome:
        """One attempt; blocks on the network; never raises."""
        channel = self.channels.get(delivery.kind)
        if channel is None:
            return DeliveryOutcome.permanent_failure(f"no channel for {delivery.kind.value!r}")
        try:
            return channel.send(delivery.address, notification(delivery, context))
        except Exception as error:  # a channel bug must not lose the outcome
            # Permanent, not temporary: a bug raises again on every retry; fail over.
            log.exception("paging: %s channel raised for page %s", delivery.kind, delivery.page_id)
            return DeliveryOutcome.permanent_failure(f"{type(error).__name__}: {error}")
