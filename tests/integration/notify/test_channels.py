"""Notification channels against a real SMTP server and a real HTTP receiver."""

from __future__ import annotations

import socket

import pytest

from notify import EmailChannel, Notification, SlackChannel, WebhookChannel
from tests.receivers import HttpReceiver, Mailbox


def page(**overrides: str) -> Notification:
    fields = {
        "kind": "page",
        "recipient": "Alice",
        "incident_reference": "INC-7",
        "incident_id": "00000000-0000-4000-8000-000000000007",
        "title": "checkout <5xx> & errors",
        "severity": "P1",
        "summary": "5xx ratio 3.2%",
        "ack_url": "http://127.0.0.1:8080/ack/abc",
        "idempotency_key": "page-1-email-1",
    }
    return Notification(**{**fields, **overrides})  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_email_page_is_accepted_by_the_smtp_server_with_an_ack_link(
    smtp_server: tuple[str, int, Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    outcome = EmailChannel(host, port, sender="pager@firewatch.test").send(
        "alice@example.org", page()
    )
    assert outcome.delivered
    [message] = mailbox.wait_for(1)
    mailbox.claim(lambda m: m["To"] == "alice@example.org")
    assert message["Subject"] == "[PAGE] INC-7 P1: checkout <5xx> & errors"
    assert message["Message-ID"] == "<page-1-email-1@firewatch>"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "http://127.0.0.1:8080/ack/abc" in text
    assert "checkout &lt;5xx&gt; &amp; errors" in html, "HTML must be escaped"


def test_an_smtp_4xx_is_temporary_and_a_5xx_is_permanent(
    smtp_server: tuple[str, int, Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    mailbox.replies.extend(["451 4.3.0 try again later", "550 5.1.1 no such user"])
    channel = EmailChannel(host, port)
    first = channel.send("alice@example.org", page())
    second = channel.send("alice@example.org", page())
    assert (first.delivered, first.permanent) == (False, False)
    assert "451" in first.reason
    assert (second.delivered, second.permanent) == (False, True)
    assert "550" in second.reason


def test_an_unreachable_smtp_server_is_a_temporary_failure() -> None:
    outcome = EmailChannel("127.0.0.1", closed_port(), timeout=2).send("a@example.org", page())
    assert (outcome.delivered, outcome.permanent) == (False, False)


def test_a_malformed_address_is_a_permanent_failure_without_a_connection() -> None:
    outcome = EmailChannel("127.0.0.1", closed_port()).send("not-an-address", page())
    assert outcome.permanent


def test_the_generic_webhook_posts_the_whole_notification_as_json(
    http_receiver: HttpReceiver,
) -> None:
    outcome = WebhookChannel().send(http_receiver.url("/hooks/oncall"), page())
    assert outcome.delivered
    received = http_receiver.claim(lambda r: r.path == "/hooks/oncall")
    body = received.json()
    assert body["schema"] == "firewatch.notification/v1"
    assert (body["incident_reference"], body["ack_url"]) == (
        "INC-7",
        "http://127.0.0.1:8080/ack/abc",
    )
    assert received.headers["Idempotency-Key"] == "page-1-email-1"


def test_the_slack_payload_escapes_mrkdwn_and_offers_an_ack_button(
    http_receiver: HttpReceiver,
) -> None:
    assert SlackChannel().send(http_receiver.url("/services/T0/B0/x"), page()).delivered
    body = http_receiver.claim(lambda r: r.path.startswith("/services/")).json()
    assert body["text"] == "[PAGE] INC-7 P1: checkout &lt;5xx&gt; &amp; errors"
    section = body["blocks"][0]["text"]["text"]
    assert "checkout &lt;5xx&gt; &amp; errors" in section
    assert body["blocks"][1]["elements"][0]["url"] == "http://127.0.0.1:8080/ack/abc"


def test_http_429_and_503_are_temporary_and_404_is_permanent(http_receiver: HttpReceiver) -> None:
    http_receiver.statuses.extend([429, 503, 404])
    channel = WebhookChannel()
    outcomes = [channel.send(http_receiver.url("/h"), page()) for _ in range(3)]
    assert [(o.delivered, o.permanent) for o in outcomes] == [
        (False, False),
        (False, False),
        (False, True),
    ]
    assert http_receiver.requests == []


@pytest.mark.parametrize("channel", [WebhookChannel(timeout=0.3), SlackChannel(timeout=0.3)])
@pytest.mark.parametrize("script", ["HOLD", "DROP"])
def test_a_request_written_but_never_answered_is_outcome_unknown(
    http_receiver: HttpReceiver, channel: WebhookChannel | SlackChannel, script: str
) -> None:
    # HOLD: the receiver answers only after the sender's read timeout; DROP: it hangs
    # up without answering. Either way it got the request and may act on it.
    http_receiver.statuses.append(script)
    outcome = channel.send(http_receiver.url("/hook"), page())
    assert outcome.kind == "unknown", outcome
    assert (outcome.delivered, outcome.permanent, outcome.unknown) == (False, False, True)
    assert "outcome unknown" in outcome.reason
    http_receiver.claim(lambda r: r.headers["Idempotency-Key"] == "page-1-email-1")


def test_an_unreachable_http_receiver_is_a_temporary_failure() -> None:
    outcome = WebhookChannel(timeout=0.5).send(f"http://127.0.0.1:{closed_port()}/h", page())
    assert outcome.kind == "temporary", outcome


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("channel", [WebhookChannel(), SlackChannel()])
def test_a_redirect_is_a_permanent_failure_and_never_followed(
    http_receiver: HttpReceiver, channel: WebhookChannel | SlackChannel, status: int
) -> None:
    # urllib would follow a 302 with a body-less GET and report that GET's 200: the
    # receiver's do_GET records it, and an unclaimed request fails the test.
    http_receiver.statuses.append(status)
    outcome = channel.send(http_receiver.url("/old"), page())
    assert outcome.kind == "permanent", outcome
    assert f"HTTP {status}" in outcome.reason
    assert "/moved" in outcome.reason


def test_the_slack_fallback_text_is_escaped_like_the_blocks(http_receiver: HttpReceiver) -> None:
    note = page(title="<!channel> checkout <https://evil.example|click> & down")
    assert SlackChannel().send(http_receiver.url("/services/T0/B0/x"), note).delivered
    body = http_receiver.claim(lambda r: True).json()
    escaped = "&lt;!channel&gt; checkout &lt;https://evil.example|click&gt; &amp; down"
    assert body["text"] == f"[PAGE] INC-7 P1: {escaped}"
    assert "<" not in body["text"]
    assert escaped in body["blocks"][0]["text"]["text"]


def test_a_non_http_url_is_refused_as_permanent() -> None:
    assert WebhookChannel().send("ftp://example.org/x", page()).permanent


def test_a_connection_lost_after_data_is_outcome_unknown_neither_failed_nor_retryable(
    smtp_server: tuple[str, int, Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    mailbox.replies.append("SLOW 1.5")
    outcome = EmailChannel(host, port, timeout=0.5).send("alice@example.org", page())
    assert outcome.kind == "unknown"
    assert (outcome.delivered, outcome.permanent, outcome.unknown) == (False, False, True)
    assert "outcome unknown" in outcome.reason
    # The server did accept it after the client gave up: an unlabelled retry would
    # duplicate it, giving up could lose it; the caller resends it labelled (ADR 0011).
    mailbox.wait_for(1, timeout=10)
    mailbox.claim(lambda m: m["To"] == "alice@example.org")


def test_consecutive_emails_share_one_smtp_connection(
    smtp_server: tuple[str, int, Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    channel = EmailChannel(host, port)
    try:
        for n in range(3):
            outcome = channel.send(f"r{n}@example.org", page(idempotency_key=f"k{n}"))
            assert outcome.delivered
        mailbox.wait_for(3)
        for n in range(3):
            mailbox.claim(lambda m, n=n: m["To"] == f"r{n}@example.org")
        assert len(set(mailbox.peers)) == 1
        assert channel.connections_opened == 1
    finally:
        channel.close()


def test_a_connection_dropped_while_idle_is_replaced_and_the_page_sent_exactly_once(
    smtp_server: tuple[str, int, Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    mailbox.replies.append("DROP")
    channel = EmailChannel(host, port)
    try:
        assert channel.send("alice@example.org", page(idempotency_key="first")).delivered
        mailbox.wait_for_drops(1)
        # The channel only learns of the drop when it uses the connection again: MAIL
        # fails before DATA, so nothing was handed over and a fresh connection is safe.
        repeat = page(idempotency_key="second", possible_repeat=True)  # type: ignore[arg-type]
        outcome = channel.send("bob@example.org", repeat)
        assert outcome.delivered, outcome.reason
        assert channel.resent_on_fresh_connection == 1
        assert channel.connections_opened == 2
        mailbox.wait_for(2)
        mailbox.claim(lambda m: m["To"] == "alice@example.org")
        second = mailbox.claim(lambda m: m["To"] == "bob@example.org")
        assert "(possible repeat)" in second["Subject"]
        assert second["Message-ID"] == "<second@firewatch>"
        assert mailbox.peers[0] != mailbox.peers[1]
    finally:
        channel.close()


def test_a_reused_connection_lost_during_data_is_outcome_unknown_and_not_resent(
    smtp_server: tuple[str, int, Mailbox],
) -> None:
    host, port, mailbox = smtp_server
    channel = EmailChannel(host, port, timeout=0.5)
    try:
        assert channel.send("alice@example.org", page(idempotency_key="first")).delivered
        mailbox.replies.append("SLOW 1.5")
        outcome = channel.send("bob@example.org", page(idempotency_key="second"))
        assert outcome.kind == "unknown"
        assert "outcome unknown" in outcome.reason
        assert channel.resent_on_fresh_connection == 0
        # The broken connection is not reused: the next page opens a new one.
        assert channel.send("carol@example.org", page(idempotency_key="third")).delivered
        assert channel.connections_opened == 2
        mailbox.wait_for(3)
        for who in ("alice", "bob", "carol"):
            mailbox.claim(lambda m, who=who: m["To"] == f"{who}@example.org")
    finally:
        channel.close()
