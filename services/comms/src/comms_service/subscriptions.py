"""The status page's subscribers: subscribing, confirming and unsubscribing.

Owns the signed links (`SubscriberLinks`: the confirmation token mailed with a
double opt-in request and the unsubscribe link every notice carries) and the
subscribers' use cases: an email subscription (recorded, then confirmed by its link),
a webhook subscriber added by an operator, confirming, unsubscribing, and an
operator removing a subscriber. Who is
subscribed is read from the model (`Runtime.subscribers`); what they are sent is the
outbox's (`outbox.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from appkit import CommandResult
from comms_service import subscriber as sub
from comms_service.common import build, check_email, check_url
from comms_service.runtime import Runtime
from contracts.domain import InvalidCommandError

if TYPE_CHECKING:
    from comms_service.outbox import Outbox
    from comms_service.publishing import Publishing


@dataclass(frozen=True, slots=True)
class SubscriberLinks:
    """The signing secret and where the status page is served (no trailing slash)."""

    secret: bytes
    page_url: str

    def confirm_token(self, stream: str, at: datetime, *, change: bool = False) -> str:
        """The secret in a confirmation link; a change of a confirmed subscription gets
        its own kind, so no earlier link can ever confirm it."""
        kind = "confirm-change" if change else "confirm"
        return hmac.new(
            self.secret, f"{kind}|{stream}|{at.isoformat()}".encode(), hashlib.sha256
        ).hexdigest()

    def unsubscribe_signature(self, subscriber_id: uuid.UUID) -> str:
        return hmac.new(
            self.secret, f"unsubscribe|{subscriber_id}".encode(), hashlib.sha256
        ).hexdigest()[:32]

    def unsubscribe_url(self, subscriber_id: uuid.UUID) -> str:
        signature = self.unsubscribe_signature(subscriber_id)
        return f"{self.page_url}/unsubscribe/{subscriber_id}/{signature}"


class Subscriptions:
    def __init__(
        self, runtime: Runtime, links: SubscriberLinks, publishing: Publishing, outbox: Outbox
    ) -> None:
        self.runtime = runtime
        self.links = links
        self.publishing = publishing
        self.outbox = outbox

    def subscribe_email(
        self, address: str, component_ids: Sequence[str] = ()
    ) -> CommandResult[Any]:
        """Double opt-in: records the request and mails a confirmation link."""
        email = check_email("email", address)
        self.publishing.check_components(component_ids)
        sub_id = sub.subscriber_id(sub.SubscriberKind.EMAIL, email)
        stream = sub.stream_for(sub_id)
        at = self.runtime.clock()
        current: sub.Subscriber = self.runtime.model.state(stream)[0]
        command = build(
            sub.RequestSubscription,
            at=at,
            kind="email",
            address=email,
            component_ids=tuple(component_ids),
            # A confirmed subscriber stays so: the decider records a change to confirm.
            confirm_token=self.links.confirm_token(
                stream, at, change=current.status is sub.Status.CONFIRMED
            ),
        )
        result = self.runtime.run(sub.STREAM_CATEGORY, stream, command, actor="public")
        self.outbox.queue_requested()
        return result

    def add_webhook_subscriber(
        self, url: str, component_ids: Sequence[str] = (), *, by: str
    ) -> CommandResult[Any]:
        address = check_url("url", url)
        self.publishing.check_components(component_ids)
        sub_id = sub.subscriber_id(sub.SubscriberKind.WEBHOOK, address)
        command = build(
            sub.RequestSubscription,
            at=self.runtime.clock(),
            kind="webhook",
            address=address,
            component_ids=tuple(component_ids),
        )
        return self.runtime.run(sub.STREAM_CATEGORY, sub.stream_for(sub_id), command, actor=by)

    def confirm_subscription(self, subscriber_id: uuid.UUID, token: str) -> CommandResult[Any]:
        command = build(sub.ConfirmSubscription, at=self.runtime.clock(), token=token)
        return self.runtime.run(
            sub.STREAM_CATEGORY,
            sub.stream_for(subscriber_id),
            command,
            actor="public",
            not_found="no such subscription",
        )

    def find_subscriber(self, subscriber: str) -> uuid.UUID:
        """A subscriber by its id or its address (email or webhook URL, any case)."""
        text = subscriber.strip()
        if not text:
            raise InvalidCommandError("subscriber", "give its id or its address")
        for state in self.runtime.subscribers():
            if str(state.subscriber_id) == text or state.address.lower() == text.lower():
                assert state.subscriber_id is not None
                return state.subscriber_id
        raise InvalidCommandError("subscriber", f"no subscriber {text!r}")

    def remove_subscriber(
        self, subscriber: str, *, by: str, reason: str = ""
    ) -> CommandResult[Any]:
        """An admin removes a subscriber (a bouncing address, a dead webhook)."""
        sub_id = self.find_subscriber(subscriber)
        command = build(
            sub.RemoveSubscriber, at=self.runtime.clock(), removed_by=by, reason=reason.strip()
        )
        return self.runtime.run(sub.STREAM_CATEGORY, sub.stream_for(sub_id), command, actor=by)

    def unsubscribe(
        self, subscriber_id: uuid.UUID, signature: str, *, via: str = "link"
    ) -> CommandResult[Any]:
        if not hmac.compare_digest(signature, self.links.unsubscribe_signature(subscriber_id)):
            raise InvalidCommandError("signature", "this unsubscribe link is not valid")
        command = build(sub.Unsubscribe, at=self.runtime.clock(), via=via)
        return self.runtime.run(
            sub.STREAM_CATEGORY,
            sub.stream_for(subscriber_id),
            command,
            actor="public",
            not_found="no such subscription",
        )
