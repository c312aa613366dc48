"""Notification channels shared by paging and communications.

`Notification` is what to say; a channel (`EmailChannel`, `WebhookChannel`,
`SlackChannel`) says it through one real protocol and classifies the outcome as
delivered, a temporary failure (retry later), a permanent one (fail over to the next
contact method) or unknown (handed over, no answer: send again through the same
method, labelled as a possible repeat with the first key, ADR 0011). Channels never
retry themselves: the caller records each attempt in the log before making it, so
retries stay visible and are never duplicated.
"""

from notify.channels import (
    Channel,
    DeliveryOutcome,
    EmailChannel,
    OutcomeKind,
    SlackChannel,
    WebhookChannel,
    post,
)
from notify.message import Notification, render

__all__ = [
    "Channel",
    "DeliveryOutcome",
    "EmailChannel",
    "Notification",
    "OutcomeKind",
    "SlackChannel",
    "WebhookChannel",
    "post",
    "render",
]
