"""Synthetic checks against real HTTP(S) servers on loopback, over a real SQLite log on a
FakeClock: each kind of target failure gives the right result, the check's rule
honours `for` and resolves on recovery, and one hanging target never delays another.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import wait
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry, generate_latest

from detection_service.app import DetectionApplication
from detection_service.check import Outcome
from detection_service.synthetics import CheckMetrics, CheckScheduler
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore

T0 = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)


class Target:
    """A loopback web shop: /ok, /fail (500), /wrong (200, wrong body), /hang (never
    answers until released), /login → token, /cart (needs that token), /flaky (down
    while `broken`)."""

    def __init__(self) -> None:
        self.broken = False
        self.release = threading.Event()
        self.token = "tok-81f3"
        self.ca_file = ""
        self.ok_hits = 0
        self.seen = threading.Condition()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: str, kind: str = "text/plain") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                match self.path:
                    case "/ok":
                        with target.seen:
                            target.ok_hits += 1
                            target.seen.notify_all()
                        self._send(200, "welcome to checkout")
                    case "/fail":
                        self._send(500, "internal error: db pool exhausted")
                    case "/wrong":
                        self._send(200, "maintenance page")
                    case "/hang":
                        target.release.wait(30)
                        self._send(200, "late")
                    case "/cart":
                        if self.headers.get("Authorization") == f"Bearer {target.token}":
                            self._send(200, json.dumps({"cart": {"items": 2}}), "application/json")
                        else:
                            self._send(401, "who are you?")
                    case "/flaky":
                        if target.broken:
                            self._send(503, "upstream connect error")
                        else:
                            self._send(200, "welcome to checkout")
                    case _:
                        self._send(404, "no such page")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/login" and body.get("user") == "synthetic":
                    self._send(200, json.dumps({"token": target.token}), "application/json")
                else:
                    self._send(403, "bad login")

        self.handler = Handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for_ok_hits(self, count: int, timeout: float) -> bool:
        with self.seen:
            return self.seen.wait_for(lambda: self.ok_hits >= count, timeout)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target() -> Iterator[Target]:
    server = Target()
    yield server
    server.close()


def _expired_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=60))
        .not_valid_after(now - dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def expired_tls(tmp_path: Path, target: Target) -> Iterator[str]:
    cert, key = _expired_certificate(tmp_path)
    target.ca_file = str(cert)
    server = ThreadingHTTPServer(("127.0.0.1", 0), target.handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[SQLiteEventStore]:
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="detection", ownership=Ownership.platform(), clock=clock
    )
    yield store
    store.close()


@pytest.fixture
def app(store: SQLiteEventStore, clock: FakeClock) -> DetectionApplication:
    return DetectionApplication(store, clock)


def _http(name: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "http",
        "interval": "10s",
        "steps": [{"name": "home", "url": url, "timeout": "1s", **extra}],
    }


def _types(store: SQLiteEventStore) -> list[str]:
    return [e.type for e in store.read_all()]


# ---------------------------------------------------------------------- each target


def test_a_healthy_target_is_up_with_its_step_timed(
    app: DetectionApplication, target: Target
) -> None:
    app.define_check(
        _http(
            "home", target.base + "/ok", assertions=[{"status": 200}, {"body_contains": "welcome"}]
        ),
        defined_by="test",
    )
    result = app.run_check("home")
    assert result.outcome is Outcome.UP
    assert [s.name for s in result.steps] == ["home"]
    assert result.steps[0].status_code == 200
    assert 0 < result.steps[0].duration_ms <= result.total_ms


def test_a_500_is_down_with_the_status_and_response_excerpt(
    app: DetectionApplication, target: Target
) -> None:
    app.define_check(_http("home", target.base + "/fail"), defined_by="test")
    result = app.run_check("home")
    assert result.outcome is Outcome.DOWN
    assert result.failing is not None
    assert result.failing.detail == "status 500, expected 200"
    assert "db pool exhausted" in result.failing.excerpt


def test_the_wrong_body_is_down_even_with_a_200(app: DetectionApplication, target: Target) -> None:
    app.define_check(
        _http(
            "home",
            target.base + "/wrong",
            assertions=[{"status": 200}, {"body_matches": "welcome|checkout"}],
        ),
        defined_by="test",
    )
    result = app.run_check("home")
    assert result.outcome is Outcome.DOWN
    assert result.failing is not None
    assert "does not match" in result.failing.detail
    assert result.failing.excerpt == "maintenance page"


def test_a_hanging_target_times_out_as_down(app: DetectionApplication, target: Target) -> None:
    app.define_check(_http("home", target.base + "/hang", timeout="0.3s"), defined_by="test")
    result = app.run_check("home")
    assert result.outcome is Outcome.DOWN
    assert result.failing is not None
    assert result.failing.detail == "timed out after 0.3s"
    assert result.total_ms < 3000


def test_an_expired_certificate_is_down_when_verified(
    app: DetectionApplication, expired_tls: str, target: Target
) -> None:
    # Trusting the self-signed certificate as its own CA leaves expiry as the problem.
    app.define_check(_http("tls", expired_tls + "/ok", ca_file=target.ca_file), defined_by="t")
    result = app.run_check("tls")
    assert result.outcome is Outcome.DOWN
    assert result.failing is not None
    assert result.failing.detail == "TLS: certificate has expired"


def test_cert_valid_days_names_how_long_ago_it_expired(
    app: DetectionApplication, expired_tls: str
) -> None:
    app.define_check(
        _http("tls", expired_tls + "/ok", tls_verify=False, assertions=[{"cert_valid_days": 14}]),
        defined_by="test",
    )
    result = app.run_check("tls")
    assert result.outcome is Outcome.DOWN
    assert result.failing is not None
    assert result.failing.detail.startswith("certificate expired 30 days ago")


def test_a_login_token_passes_to_the_next_step(app: DetectionApplication, target: Target) -> None:
    spec = {
        "name": "checkout",
        "kind": "http",
        "interval": "10s",
        "steps": [
            {
                "name": "login",
                "method": "POST",
                "url": target.base + "/login",
                "body": '{"user": "synthetic"}',
                "extract": {"token": {"json": "token"}},
            },
            {
                "name": "cart",
                "url": target.base + "/cart",
                "headers": {"Authorization": "Bearer {{token}}"},
                "assertions": [{"json_equals": {"path": "cart.items", "value": 2}}],
            },
        ],
    }
    app.define_check(spec, defined_by="test")
    result = app.run_check("checkout")
    assert result.outcome is Outcome.UP, result.steps
    assert [s.name for s in result.steps] == ["login", "cart"]
    assert result.steps_reached == 2
    target.token = "rotated"  # the server now issues and expects another token
    assert app.run_check("checkout").outcome is Outcome.UP


def test_tcp_and_dns_checks(app: DetectionApplication, target: Target) -> None:
    port = target.server.server_port
    app.define_check(
        {"name": "tcp-up", "kind": "tcp", "host": "127.0.0.1", "port": port}, defined_by="t"
    )
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    app.define_check(
        {"name": "tcp-down", "kind": "tcp", "host": "127.0.0.1", "port": closed_port},
        defined_by="t",
    )
    app.define_check(
        {"name": "dns", "kind": "dns", "host": "localhost", "expect_addresses": ["127.0.0.1"]},
        defined_by="t",
    )
    app.define_check({"name": "nx", "kind": "dns", "host": "no-such-host.invalid"}, defined_by="t")
    assert app.run_check("tcp-up").outcome is Outcome.UP
    assert app.run_check("tcp-down").outcome is Outcome.DOWN
    assert app.run_check("dns").outcome is Outcome.UP
    assert app.run_check("nx").outcome is Outcome.DOWN


# ---------------------------------------------------------------------- the alert path


def test_failing_for_the_for_duration_fires_with_the_step_and_resolves_on_recovery(
    app: DetectionApplication, target: Target, clock: FakeClock, store: SQLiteEventStore
) -> None:
    app.define_check(
        {
            **_http("checkout", target.base + "/flaky"),
            "for": "2m",
            "labels": {"service": "checkout"},
        },
        defined_by="test",
    )
    app.run_check("checkout")
    app.tick()
    assert app.list_alerts() == []
    target.broken = True
    failed_at = clock.advance(10)
    app.run_check("checkout")
    assert app.tick().event_types == ("AlertPending",)
    for _ in range(11):  # 110 s more: pending, not firing
        clock.advance(10)
        app.run_check("checkout")
        assert "AlertTriggered" not in app.tick().event_types
    clock.advance(10)  # two minutes after the first failure
    app.run_check("checkout")
    fired = app.tick().event_types
    assert fired[:1] == ("AlertTriggered",)
    assert "AlertGroupFiring" in fired
    (alert,) = app.list_alerts(status="firing")
    assert alert.labels["check"] == "checkout"
    assert alert.labels["service"] == "checkout"
    assert alert.annotations["failing_step"] == "home"
    assert alert.annotations["detail"] == "status 503, expected 200"
    assert "upstream connect error" in alert.annotations["excerpt"]
    assert app.get_check("checkout").first_failed_at == failed_at
    # Recovery: the next passing run resolves the alert and its group.
    target.broken = False
    clock.advance(10)
    app.run_check("checkout")
    assert app.tick().event_types == (
        "AlertResolved",
        "AlertGroupAlertResolved",
        "AlertGroupResolved",
    )
    assert app.get_check("checkout").first_failed_at is None
    # Removing a check resolves its open alert (no rule would evaluate it again).
    target.broken = True
    for _ in range(13):
        clock.advance(10)
        app.run_check("checkout")
        app.tick()
    assert [a.status.value for a in app.list_alerts(status="firing")] == ["firing"]
    app.remove_check("checkout", removed_by="test")
    assert app.list_alerts(status="firing") == []
    assert app.list_rules() == []
    # The log holds state changes, not probes: 28 runs, 4 outcome events.
    changes = [t for t in _types(store) if t == "CheckStatusChanged"]
    assert len(changes) == 4  # up, down, up, down
    assert "CheckRemoved" in _types(store)


def test_the_checkers_own_resolver_failing_is_a_checker_error_not_the_target(
    app: DetectionApplication, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # EAI_AGAIN: the checker could not ask its resolver (as opposed to NXDOMAIN, which
    # test_tcp_and_dns_checks shows is the target's). Only the resolver is replaced.
    def resolver_down(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    app.define_check({"name": "dns", "kind": "dns", "host": "example.org"}, defined_by="t")
    monkeypatch.setattr(socket, "getaddrinfo", resolver_down)
    result = app.run_check("dns")
    monkeypatch.undo()
    assert result.outcome is Outcome.CHECKER_ERROR
    assert result.failing is not None
    assert result.failing.detail.startswith("checker: the checker's resolver failed")
    assert app.get_check("dns").status is Outcome.CHECKER_ERROR
    clock.advance(10)
    assert app.tick().event_types == ()  # no `up` sample: the rule sees no failure


# ---------------------------------------------------------------------- concurrency


def test_a_hanging_target_does_not_delay_the_other_checks(
    app: DetectionApplication, target: Target, clock: FakeClock
) -> None:
    app.define_check(_http("slow", target.base + "/hang", timeout="5s"), defined_by="t")
    for index in range(5):
        app.define_check(_http(f"fast{index}", target.base + "/ok"), defined_by="t")
    scheduler = CheckScheduler(app, workers=4, spread=False)
    try:
        futures = scheduler.submit_due()
        assert len(futures) == 6
        done, pending = wait(futures, timeout=3)
        assert len(pending) == 1  # the hanging one, still running ...
        results = [f.result() for f in done]
        # ... while every fast check has finished and passed.
        assert sorted(r.check for r in results if r is not None) == [f"fast{i}" for i in range(5)]
        assert all(r is not None and r.outcome is Outcome.UP for r in results)
        # Due again while still running: skipped, not queued behind itself.
        clock.advance(10)
        again = scheduler.submit_due()
        assert len(again) == 5
        wait(again, timeout=3)
    finally:
        target.release.set()
        scheduler.stop()


def test_a_busy_writer_does_not_delay_a_due_probe(
    app: DetectionApplication, target: Target, clock: FakeClock
) -> None:
    # A tick or an ingest holds the writer's lock; checks falling due meanwhile must
    # still be probed on time (the CI bench saw p99 lateness of a whole tick). Only
    # recording the result waits for the lock.
    app.define_check(_http("shop", target.base + "/ok"), defined_by="t")
    scheduler = CheckScheduler(app, workers=2, spread=False)
    probed = threading.Event()
    held = threading.Event()
    release = threading.Event()

    def busy_writer() -> None:
        with app.checks.core.lock:
            held.set()
            release.wait(timeout=30)

    writer = threading.Thread(target=busy_writer)
    try:
        [first] = scheduler.submit_due()  # reads the checks once, with the lock free
        assert first.result(timeout=5) is not None
        writer.start()
        assert held.wait(timeout=5)
        clock.advance(10)
        submitting = threading.Thread(
            target=lambda: probed.set() if scheduler.submit_due() else None
        )
        submitting.start()
        submitting.join(timeout=5)
        assert probed.is_set(), "the scheduler waited for the writer's lock"
        # The second probe reaches the target while the lock is still held.
        assert target.wait_for_ok_hits(2, timeout=5), "the probe waited for the lock"
    finally:
        release.set()
        writer.join(timeout=5)
        scheduler.stop()


def test_first_runs_spread_over_the_interval_then_keep_their_cadence(
    app: DetectionApplication, target: Target, clock: FakeClock
) -> None:
    for index in range(20):
        app.define_check(_http(f"c{index}", target.base + "/ok"), defined_by="t")
    registry = CollectorRegistry()
    scheduler = CheckScheduler(app, workers=4, metrics=CheckMetrics(registry))
    try:
        started: list[str] = []
        for _ in range(11):  # one interval (ends inclusive), a second at a time
            for future in scheduler.submit_due():
                result = future.result(timeout=5)
                assert result is not None
                started.append(result.check)
            clock.advance(1)
        assert sorted(started) == sorted(f"c{i}" for i in range(20))  # each once
        assert 0 < len(set(started[:10])) < 20  # spread, not all in the first second
        # The next interval runs each again, at the same offsets.
        again = []
        for _ in range(10):
            again += scheduler.submit_due()
            clock.advance(1)
        assert len(again) == 20
        wait(again, timeout=5)
    finally:
        scheduler.stop()
    exposition = generate_latest(registry).decode()
    assert 'firewatch_check_up{check="c0"} 1.0' in exposition
    assert 'firewatch_check_runs_total{check="c0",outcome="up"} 2.0' in exposition
    assert "firewatch_check_schedule_lateness_seconds_count 40.0" in exposition


def test_a_ca_file_the_checker_cannot_read_is_a_checker_error(
    app: DetectionApplication, expired_tls: str, tmp_path: Path
) -> None:
    missing = str(tmp_path / "no-such-ca.pem")
    app.define_check(_http("tls", expired_tls + "/ok", ca_file=missing), defined_by="t")
    result = app.run_check("tls")
    assert result.outcome is Outcome.CHECKER_ERROR
    assert result.failing is not None
    assert result.failing.name == "home"
    assert result.failing.detail.startswith("checker: cannot load ca_file")
