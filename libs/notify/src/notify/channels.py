"""The channels: SMTP email, a generic JSON webhook, a Slack-compatible webhook.

Owns one send attempt per call and its classification:
- delivered: the receiving server accepted it (SMTP 250, HTTP 2xx);
- temporary: worth retrying later (SMTP 4xx, HTTP 408/425/429/5xx, timeouts and
  connection errors before anything was handed over);
- permanent: retrying cannot help (SMTP 5xx such as an unknown mailbox, other HTTP 4xx,
  an HTTP redirect, malformed addresses): the caller fails over to the next method;
- unknown: the message was handed over but its answer never came (an HTTP request
  written whose response timed out or whose connection dropped; an SMTP connection
  lost after DATA, while waiting for the final reply). The receiver may have it. The
  caller must send it again through the same method, labelled as a possible repeat
  with the first attempt's key (ADR 0011): never silence, never an unlabelled copy.
It never retries a message that may have been handed over and never raises for a
delivery problem: the caller records attempts.

HTTP POSTs never follow redirects: urllib would turn a 301/302/303 into a GET without
the body and report the GET's 200, so a moved receiver would count as delivered while
it received nothing. A 3xx is a permanent failure (statuspage-v2's webhook rule: a
redirect counts as a failure); the configured URL must be fixed.

Email keeps a few idle SMTP connections per channel and reuses them (a new connection
costs a TCP handshake, the greeting and EHLO on every page). A server may drop an idle
connection at any time; that shows only when the next message is sent on it. If the
connection fails *before the DATA command was sent*, the server cannot have the
message, so the same attempt is sent once more on a fresh connection; a failure from
DATA on is "outcome unknown" exactly as on a fresh connection.
"""

from __future__ import annotations

import abc
import contextlib
import http.client
import smtplib
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any, Literal

from notify.message import Notification, render, slack_body, webhook_body

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

Kind = Literal["email", "webhook", "slack"]
OutcomeKind = Literal["delivered", "temporary", "permanent", "unknown"]
RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    delivered: bool
    permanent: bool = False
    reason: str = ""
    unknown: bool = False
    """The message was handed over but no answer came: it may have arrived. Never a
    failure to retry unlabelled, never one to give up: send again, marked as a possible
    repeat with the first attempt's key. `delivered` and `permanent` are False."""

    def __post_init__(self) -> None:
        if self.unknown and (self.delivered or self.permanent):
            raise ValueError("an unknown outcome is neither delivered nor permanent")

    @property
    def kind(self) -> OutcomeKind:
        if self.delivered:
            return "delivered"
        if self.unknown:
            return "unknown"
        return "permanent" if self.permanent else "temporary"

    @classmethod
    def ok(cls, reason: str = "accepted") -> DeliveryOutcome:
        return cls(True, False, reason)

    @classmethod
    def temporary(cls, reason: str) -> DeliveryOutcome:
        return cls(False, False, reason)

    @classmethod
    def permanent_failure(cls, reason: str) -> DeliveryOutcome:
        return cls(False, True, reason)

    @classmethod
    def outcome_unknown(cls, reason: str) -> DeliveryOutcome:
        return cls(False, False, reason, unknown=True)


class Channel(abc.ABC):
    kind: Kind

    @abc.abstractmethod
    def send(self, address: str, notification: Notification) -> DeliveryOutcome:
        """One attempt to deliver `notification` to `address`."""


class _TrackedSMTP(smtplib.SMTP):
    """smtplib.SMTP that remembers whether DATA was started, i.e. whether the server
    may already hold the message, and when it last finished a message."""

    data_started = False
    idle_since = 0.0

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_started = True
        return super().data(msg)


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
        max_idle_connections: int = 4,
        idle_seconds: float = 30.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout = timeout
        self.max_idle_connections = max_idle_connections
        self.idle_seconds = idle_seconds
        """Idle connections older than this are closed rather than reused: servers
        drop idle clients (RFC 5321 asks them to wait 5 minutes; many wait less)."""
        self._idle: list[_TrackedSMTP] = []
        self._lock = threading.Lock()
        self.connections_opened = 0
        self.resent_on_fresh_connection = 0

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
        reused = self._borrow()
        if reused is not None:
            try:
                refused = reused.send_message(message)
            except (OSError, smtplib.SMTPException) as error:
                _discard(reused)
                if reused.data_started or not _connection_lost(error):
                    return self._classify(error, handed_over=reused.data_started)
                # Dropped while idle, and DATA was never sent: nothing was handed over,
                # so this is still the first and only hand-over of this attempt.
                self.resent_on_fresh_connection += 1
            else:
                return self._finish(reused, refused)
        return self._send_fresh(message)

    def _send_fresh(self, message: EmailMessage) -> DeliveryOutcome:
        smtp: _TrackedSMTP | None = None
        try:
            smtp = _TrackedSMTP(self.host, self.port, timeout=self.timeout)
            self.connections_opened += 1
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.username:
                smtp.login(self.username, self.password or "")
            refused = smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            if smtp is not None:
                _discard(smtp)
            return self._classify(error, handed_over=smtp is not None and smtp.data_started)
        return self._finish(smtp, refused)

    def _finish(self, smtp: _TrackedSMTP, refused: dict[str, tuple[int, bytes]]) -> DeliveryOutcome:
        if refused:
            _discard(smtp)
            return _classify_smtp(*next(iter(refused.values())))
        self._give_back(smtp)
        return DeliveryOutcome.ok(f"accepted by {self.host}:{self.port}")

    def _borrow(self) -> _TrackedSMTP | None:
        stale: list[_TrackedSMTP] = []
        chosen = None
        with self._lock:
            now = time.monotonic()
            while self._idle:
                smtp = self._idle.pop()
                if now - smtp.idle_since < self.idle_seconds:
                    chosen = smtp
                    break
                stale.append(smtp)
        for smtp in stale:
            _quit(smtp)
        return chosen

    def _give_back(self, smtp: _TrackedSMTP) -> None:
        smtp.data_started = False
        smtp.idle_since = time.monotonic()
        with self._lock:
            if len(self._idle) < self.max_idle_connections:
                self._idle.append(smtp)
                return
        _quit(smtp)

    def close(self) -> None:
        """Close every idle connection (sends in flight keep theirs). No QUIT: it could
        wait on a slow server at shutdown, and no message is in flight on an idle one."""
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp in idle:
            _discard(smtp)

    def _classify(self, error: Exception, *, handed_over: bool) -> DeliveryOutcome:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return _classify_smtp(*next(iter(error.recipients.values())))
        if isinstance(error, smtplib.SMTPResponseException):
            # The server answered: it said what it did with the message.
            return _classify_smtp(error.smtp_code, error.smtp_error)
        if handed_over:
            # The connection broke after DATA, before the final reply: the server may
            # have accepted the message (RFC 5321 section 4.1.5). Only a labelled
            # repeat with the same Message-ID is safe, so the caller must resend it.
            return DeliveryOutcome.outcome_unknown(
                f"SMTP {self.host}:{self.port}: outcome unknown after DATA ({error}); "
                "the server may have it"
            )
        # Before DATA the server cannot hold the message: an ordinary retry is safe.
        return DeliveryOutcome.temporary(f"SMTP {self.host}:{self.port}: {error}")


def _connection_lost(error: Exception) -> bool:
    """The server went away (or said it is going: 421) rather than refusing."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    if isinstance(error, TimeoutError):
        # A server that stops answering is not an idle drop: treat it as on a fresh
        # connection rather than wait a second timeout.
        return False
    return isinstance(error, (smtplib.SMTPServerDisconnected, OSError))


def _discard(smtp: smtplib.SMTP) -> None:
    # A connection that failed mid-transaction is never reused: its state is unknown.
    with contextlib.suppress(OSError):
        smtp.close()


def _quit(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(OSError, smtplib.SMTPException):
        smtp.quit()
    _discard(smtp)


def _classify_smtp(code: int, text: bytes | str) -> DeliveryOutcome:
    # A reply is always a known outcome: 4xx (including 421 after DATA) means the
    # server did not take the message, 5xx that it never will.
    message = text.decode(errors="replace") if isinstance(text, bytes) else text
    reason = f"SMTP {code} {message}".strip()
    if 400 <= code < 500:
        return DeliveryOutcome.temporary(reason)
    return DeliveryOutcome.permanent_failure(reason)


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow: the 3xx reaches the caller as an HTTPError."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def post(address: str, body: bytes, headers: dict[str, str], *, timeout: float) -> DeliveryOutcome:
    """One HTTP POST, classified; shared by every webhook sender (also comms' signed
    webhook). Redirects are not followed. Never raises for a delivery problem."""
    if not address.startswith(("http://", "https://")):
        return DeliveryOutcome.permanent_failure(f"not an http(s) URL: {address!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        address, data=body, method="POST", headers=headers
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return DeliveryOutcome.ok(f"HTTP {response.status}")
    except urllib.error.HTTPError as error:
        reason = f"HTTP {error.code} {error.reason}"
        error.close()
        if 300 <= error.code < 400:
            location = error.headers.get("Location", "") if error.headers else ""
            return DeliveryOutcome.permanent_failure(
                f"{reason}: redirect to {location!r} not followed (a redirect counts as a "
                "failure; configure the final URL)"
            )
        if error.code in RETRYABLE_HTTP:
            return DeliveryOutcome.temporary(reason)
        return DeliveryOutcome.permanent_failure(reason)
    except urllib.error.URLError as error:
        # urllib wraps what fails while connecting or writing the request: the
        # receiver never got a whole request, so a plain retry is safe.
        return DeliveryOutcome.temporary(f"{address}: {error.reason}")
    except (OSError, http.client.HTTPException) as error:
        # Raised unwrapped while waiting for the response: the request was written
        # and the receiver may have acted on it (a read timeout, a dropped connection).
        return DeliveryOutcome.outcome_unknown(
            f"{address}: outcome unknown after the request was sent "
            f"({type(error).__name__}: {error}); the receiver may have it"
        )


class _HttpChannel(Channel):
    content_type = "application/json"

    def __init__(self, *, timeout: float = 10.0, user_agent: str = "firewatch-notify/0.1") -> None:
        self.timeout = timeout
        self.user_agent = user_agent

    @abc.abstractmethod
    def body(self, notification: Notification) -> bytes: ...

    def send(self, address: str, notification: Notification) -> DeliveryOutcome:
        headers = {
            "Content-Type": self.content_type,
            "User-Agent": self.user_agent,
            "Idempotency-Key": notification.idempotency_key,
        }
        return post(address, self.body(notification), headers, timeout=self.timeout)


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
