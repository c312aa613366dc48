"""What a notification says, and its rendering for each channel (jinja2 templates).

Owns the content only. Templates live in notify/templates; they are autoescaped for
HTML and JSON-safe values are produced by json.dumps, never by string concatenation.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_TEMPLATES = Environment(
    loader=PackageLoader("notify", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates ship inside the package and never change while a process runs;
    # with auto_reload every render stat()s its file: two syscalls per email, which
    # showed up in the paging worker's sampled profile (ADR 0028).
    auto_reload=False,
)


def _slack_escape(value: object) -> str:
    # Slack's mrkdwn treats <, > and & as control characters (links, mentions).
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TEMPLATES.filters["slack"] = _slack_escape


@dataclass(frozen=True, slots=True)
class Notification:
    """A page or update about one incident, addressed to one person."""

    kind: str
    """"page" or "update"."""
    recipient: str
    incident_reference: str
    incident_id: str
    title: str
    severity: str
    summary: str
    ack_url: str | None = None
    incident_url: str | None = None
    idempotency_key: str = ""
    """Stable per attempt: receivers can drop duplicates; also the email Message-ID."""
    possible_repeat: bool = False
    """An earlier send of this message may have arrived (its outcome was never known):
    every channel says so, and `idempotency_key` is that earlier send's."""
    extra: dict[str, str] = field(default_factory=dict)
    runbooks: tuple[str, ...] = ()
    """The incident's runbooks, most specific first: each a line to show ("Checkout 5xx
    (checkout-5xx rev 2): incidentctl runbook show INC-1") or an external http(s) link."""

    @property
    def subject(self) -> str:
        prefix = "[PAGE]" if self.kind == "page" else "[UPDATE]"
        repeat = " (possible repeat)" if self.possible_repeat else ""
        return f"{prefix}{repeat} {self.incident_reference} {self.severity}: {self.title}"


def render(template: str, notification: Notification) -> str:
    return _TEMPLATES.get_template(template).render(n=notification)


def webhook_body(notification: Notification) -> bytes:
    """The generic JSON webhook: every field, plus a schema version for receivers."""
    body: dict[str, Any] = {"schema": "firewatch.notification/v1", **asdict(notification)}
    return json.dumps(body, sort_keys=True).encode()


def slack_body(notification: Notification) -> bytes:
    """A Slack incoming-webhook payload: `text` for notifications, blocks for layout."""
    text = render("slack.txt", notification).strip()
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
    ]
    if notification.ack_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                        "url": notification.ack_url,
                        "style": "danger",
                    }
                ],
            }
        )
    # `text` is the fallback shown in notifications and by clients without blocks: it
    # is mrkdwn too, so a title like "<!channel>" must be escaped there as well.
    fallback = _slack_escape(notification.subject)
    return json.dumps({"text": fallback, "blocks": blocks}).encode()
