"""The channels: SMTP email, a generic JSON webhook, a Slack-compatible webhook.

Owns one send attempt per call and its classification:
- delivered: the receiving server accepted it (SMTP 250, HTTP 2xx);
- temporary: worth retrying later (SMTP 4xx, HTTP 408/425/429/5xx, timeouts and
  connection errors before anything was handed over);
- permanent: retrying cannot help (SMTP 5xx such as an unknown mailbox, other HTTP 4xx,
  malformed addresses), or could duplicate (an SMTP connection lost while the message
  was being handed over): the caller fails over to the next contact method.
It never retries and never raises for a delivery problem: the caller records attempts.
"""

from __future__ import annotations

import abc
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal

from notify.message import Notification, render, slack_body, webhook_body

Kind = Literal["email", "webhook", "slack"]
_RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    delivered: bool
    permanent: bool = False
    reason: str = ""

    @classmethod
    def ok(cls, reason: str = "accepted") -> DeliveryOutcome:
        return cls(True, False, reason)

    @classmethod
    def temporary(cls, reason: str) -> DeliveryOutcome:
        return cls(False, False, reason)

    @classmethod
    def permanent_failure(cls, reason: str) -> DeliveryOutcome:
        return cls(False, True, reason)


class Channel(abc.ABC):
    kind: Kind

    @abc.abstractmethod
    def send(self, address: str, notification: Notification) -> DeliveryOutcome:
        """One attempt to deliver `notification` to `address`."""


class EmailChannel(Channel):
    kind: Kind = "email"

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str = "firewatch@localhost",
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout

    def build(self, address: str, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Subject"] = notification.subject
        message["Date"] = formatdate(localtime=False)
        # A Message-ID derived from the attempt's key lets a mail system drop a
        # duplicate if the same attempt is ever replayed.
        key = notification.idempotency_key
        message["Message-ID"] = f"<{key}@firewatch>" if key else make_msgid(domain="firewatch")
        message["X-Firewatch-Incident"] = notification.incident_reference
        message.set_content(render("email.txt", notification))
        message.add_alternative(render("email.html", notification), subtype="html")
        return message

    def send(self, address: str, notification: Notification) -> DeliveryOutcome:
        if "@" not in address or any(c.isspace() for c in address):
            return DeliveryOutcome.permanent_failure(f"not an email address: {address!r}")
        message = self.build(address, notification)
        sending = False
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                sending = True
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            return _classify_smtp(*next(iter(error.recipients.values())))
        except smtplib.SMTPResponseException as error:
            return _classify_smtp(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException) as error:
            if sending:
                # The connection broke while the message was being handed over: the
                # server may have accepted it. Retrying this method could deliver it
                # twice, so report it as permanent and let the caller fail over.
                return DeliveryOutcome.permanent_failure(
                    f"SMTP {self.host}:{self.port}: outcome unknown after sending ({error}); "
                    "not retried through this method to avoid a duplicate"
                )
            return DeliveryOutcome.temporary(f"SMTP {self.host}:{self.port}: {error}")
        if refused:
            return _classify_smtp(*next(iter(refused.values())))
        return DeliveryOutcome.ok(f"accepted by {self.host}:{self.port}")


def _classify_smtp(code: int, text: bytes | str) -> DeliveryOutcome:
    message = text.decode(errors="replace") if isinstance(text, bytes) else text
    reason = f"SMTP {code} {message}".strip()
    if 400 <= code < 500:
        return DeliveryOutcome.temporary(reason)
    return DeliveryOutcome.permanent_failure(reason)


class _HttpChannel(Channel):
    content_type = "application/json"

    def __init__(self, *, timeout: float = 10.0, user_agent: str = "firewatch-notify/0.1") -> None:
        self.timeout = timeout
        self.user_agent = user_agent

    @abc.abstractmethod
    def body(self, notification: Notification) -> bytes: ...

    def send(self, address: str, notification: Notification) -> DeliveryOutcome:
        if not address.startswith(("http://", "https://")):
            return DeliveryOutcome.permanent_failure(f"not an http(s) URL: {address!r}")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            address,
            data=self.body(notification),
            method="POST",
            headers={
                "Content-Type": self.content_type,
                "User-Agent": self.user_agent,
                "Idempotency-Key": notification.idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return DeliveryOutcome.ok(f"HTTP {response.status}")
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code} {error.reason}"
            if error.code in _RETRYABLE_HTTP:
                return DeliveryOutcome.temporary(reason)
            return DeliveryOutcome.permanent_failure(reason)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return DeliveryOutcome.temporary(f"{address}: {error}")


class WebhookChannel(_HttpChannel):
    """A generic JSON webhook: the whole notification as a JSON object."""

    kind: Kind = "webhook"

    def body(self, notification: Notification) -> bytes:
        return webhook_body(notification)


class SlackChannel(_HttpChannel):
    """A Slack-compatible incoming webhook (also accepted by Mattermost, Rocket.Chat)."""

    kind: Kind = "slack"

    def body(self, notification: Notification) -> bytes:
        return slack_body(notification)
