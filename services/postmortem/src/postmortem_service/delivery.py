"""Delivery: one recorded reminder attempt (`app.Reminder`) becomes one real send via
libs/notify (SMTP, JSON webhook, Slack).

Owns the translation to a `notify.Notification` and the choice of channel per contact
kind; nothing else. It never records, retries or schedules: `tick()` recorded the
attempt before handing it out, and the caller reports the outcome.
`Courier.send` blocks on the network and never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from notify import (
    Channel,
    DeliveryOutcome,
    EmailChannel,
    Notification,
    SlackChannel,
    WebhookChannel,
)
from postmortem_service.app import Reminder
from postmortem_service.settings import PostmortemSettings

log = logging.getLogger(__name__)


def notification(reminder: Reminder, reference: str) -> Notification:
    due = reminder.due_on.isoformat()
    match reminder.slot:
        case "before":
            summary = f"Action item due on {due}: {reminder.title}"
        case "due":
            summary = f"Action item due today ({due}): {reminder.title}"
        case "escalation":
            summary = (
                f"An action item owned by {reminder.owner} from {reference}'s postmortem is "
                f"overdue since {due}: {reminder.title}. Help get it done, or record why not."
            )
        case _:
            summary = f"Action item overdue since {due}: {reminder.title}"
    return Notification(
        kind="reminder",
        recipient=reminder.target.user_id,
        incident_reference=reference,
        incident_id=str(reminder.incident_id),
        title=f"Action item: {reminder.title}",
        severity=reminder.slot,
        summary=summary,
        idempotency_key=str(reminder.idempotency_key),
        possible_repeat=reminder.possible_repeat,
        extra={"action_id": str(reminder.action_id), "slot": reminder.slot},
    )


class Courier:
    def __init__(self, channels: Mapping[str, Channel]) -> None:
        self.channels = dict(channels)

    @classmethod
    def from_settings(cls, settings: PostmortemSettings) -> Courier:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(
            {
                "email": EmailChannel(
                    settings.smtp_host,
                    settings.smtp_port,
                    sender=settings.smtp_sender,
                    starttls=settings.smtp_starttls,
                    username=settings.smtp_username,
                    password=password,
                    timeout=settings.smtp_timeout_seconds,
                ),
                "webhook": WebhookChannel(timeout=settings.webhook_timeout_seconds),
                "slack": SlackChannel(timeout=settings.webhook_timeout_seconds),
            }
        )

    def send(self, reminder: Reminder, reference: str) -> DeliveryOutcome:
        channel = self.channels.get(reminder.target.kind)
        if channel is None:
            return DeliveryOutcome.permanent_failure(f"no channel for {reminder.target.kind!r}")
        try:
            return channel.send(reminder.target.address, notification(reminder, reference))
        except Exception as error:  # a channel bug must not lose the outcome
            log.exception("postmortem: %s channel raised", reminder.target.kind)
            return DeliveryOutcome.permanent_failure(f"{type(error).__name__}: {error}")
