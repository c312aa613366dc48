"""Delivery: one recorded attempt (`app.Send`) becomes one real send via libs/notify.

Owns the translation to each channel and two things notify does not do by itself:
- email to subscribers carries `List-Unsubscribe` (with the one-click
  `List-Unsubscribe-Post`, RFC 8058);
- the generic JSON webhook is signed: `X-Firewatch-Signature: sha256=<HMAC of the body>`;
  subscriber webhooks get the Statuspage webhook body other tools already parse.
Every message carries the attempt's idempotency key (email Message-ID, webhook
Idempotency-Key) and says when it may be a repeat. Outcomes are notify's: delivered,
temporary, permanent (a redirect included) or unknown (handed over, unanswered), which
the caller must report as such so the ledger resends it labelled. It never records or retries:
`CommsApplication.tick()` recorded the attempt first; the caller reports the outcome.
`Courier.send` blocks on the network and never raises.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from comms_service.app import Send
from comms_service.dispatch import Purpose, TargetKind
from notify import DeliveryOutcome, EmailChannel, Notification, SlackChannel, post

log = logging.getLogger(__name__)


def notification(send: Send) -> Notification:
    return Notification(
        kind="update",
        recipient=send.target.address,
        incident_reference=send.reference,
        incident_id=str(send.incident_id or ""),
        title=send.subject,
        severity=send.severity,
        summary=send.body,
        idempotency_key=send.idempotency_key,
        possible_repeat=send.possible_repeat,
        extra={"purpose": send.purpose, "subject": send.subject},
    )


class CommsEmailChannel(EmailChannel):
    """notify's email, with our subject and the unsubscribe headers."""

    def build(self, address: str, notification: Notification) -> EmailMessage:
        message = super().build(address, notification)
        repeat = " (possible repeat)" if notification.possible_repeat else ""
        del message["Subject"]
        message["Subject"] = f"{notification.extra.get('subject', notification.title)}{repeat}"
        unsubscribe = notification.extra.get("unsubscribe_url")
        if unsubscribe:
            message["List-Unsubscribe"] = f"<{unsubscribe}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return message


class SignedWebhook:
    """A JSON POST signed with HMAC-SHA256 over the exact body."""

    def __init__(self, secret: bytes, *, timeout: float = 10.0) -> None:
        self.secret = secret
        self.timeout = timeout

    def post(self, address: str, body: bytes, idempotency_key: str) -> DeliveryOutcome:
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "firewatch-comms/0.1",
            "Idempotency-Key": idempotency_key,
            "X-Firewatch-Signature": f"sha256={signature}",
        }
        # notify classifies: redirects are never followed (a permanent failure), and an
        # answer that never came after the request was written is an unknown outcome.
        return post(address, body, headers, timeout=self.timeout)


class Courier:
    """Sends a Send through the channel of its target kind."""

    def __init__(
        self,
        email: EmailChannel,
        webhook: SignedWebhook,
        slack: SlackChannel,
        *,
        statuspage_payload: Callable[[Send], dict[str, Any] | None] | None = None,
    ) -> None:
        self.email = email
        self.webhook = webhook
        self.slack = slack
        self.statuspage_payload = statuspage_payload

    def payload(self, send: Send) -> dict[str, Any] | None:
        """The Statuspage webhook body of a subscriber notice (reads the read model:
        call it from the thread that owns the model, never from a send thread)."""
        if send.target.kind is not TargetKind.WEBHOOK or send.purpose not in (
            Purpose.SUBSCRIBER_NOTICE,
            Purpose.COMPONENT_UPDATE,
        ):
            return None
        return self.statuspage_payload(send) if self.statuspage_payload else None

    def send(self, send: Send, payload: dict[str, Any] | None = None) -> DeliveryOutcome:
        """One attempt; blocks on the network; never raises. `payload`: the webhook
        body from `payload()`; computed here when not given (single-threaded callers)."""
        try:
            if payload is None:
                payload = self.payload(send)
            note = notification(send)
            if send.target.unsubscribe_url:
                note.extra["unsubscribe_url"] = send.target.unsubscribe_url
            if send.target.kind is TargetKind.EMAIL:
                return self.email.send(send.target.address, note)
            if send.target.kind is TargetKind.SLACK:
                return self.slack.send(send.target.address, note)
            if payload is None:
                payload = {
                    "schema": "firewatch.comms/v1",
                    "purpose": send.purpose,
                    "reference": send.reference,
                    "incident_id": str(send.incident_id) if send.incident_id else None,
                    "severity": send.severity,
                    "subject": send.subject,
                    "body": send.body,
                    "attempt": send.attempt,
                    "possible_repeat": send.possible_repeat,
                }
            else:
                payload = {**payload, "possible_repeat": send.possible_repeat}
            body = json.dumps(payload, sort_keys=True).encode()
            return self.webhook.post(send.target.address, body, send.idempotency_key)
        except Exception as error:  # a channel bug must not lose the outcome
            log.exception("comms: %s channel raised for %s", send.target.kind, send.dispatch_id)
            return DeliveryOutcome.permanent_failure(f"{type(error).__name__}: {error}")
