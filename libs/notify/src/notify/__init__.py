"""Notification channels shared by paging and communications.

`Notification` is what to say; a channel (`EmailChannel`, `WebhookChannel`,
`SlackChannel`) says it through one real protocol and classifies the outcome as
delivered, a temporary failure (retry later) or a permanent one (fail over to the next
contact method). Channels never retry themselves: the caller records each attempt in
the log before making it, so retries stay visible and are never duplicated.
"""

from notify.channels import (
    Channel,
    DeliveryOutcome,
    EmailChannel,
    SlackChannel,
    WebhookChannel,
)
from notify.message import Notification, render

__all__ = [
    "Channel",
    "DeliveryOutcome",
    "EmailChannel",
    "Notification",
    "SlackChannel",
    "WebhookChannel",
    "render",
]
