"""Running one synthetic check against the network: HTTP(S) transactions, TCP connects
and DNS resolutions, each step timed.

Owns the I/O of a probe and the line between "the target failed" (`down`) and "the
checker could not probe" (`checker_error`): a refused connection, a timeout, a wrong
status or body, NXDOMAIN and a bad certificate are the target's; a template that cannot
be filled or a resolver the checker cannot reach (EAI_AGAIN, EAI_FAIL) are the
checker's. Plain blocking sockets on the calling OS thread (the detection writer is not
an eventlet process, ADR 0008); it never appends, never reads a clock for decisions
(durations come from `perf_counter`) and never raises for a failed probe.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from detection_service.check import VARIABLE, Assertion, CheckSpec, HttpStep, Outcome

MAX_BODY = 1024 * 1024
EXCERPT = 300
_CHECKER_RESOLVER_ERRORS = {socket.EAI_AGAIN, socket.EAI_FAIL}
"""getaddrinfo codes for "the resolver could not be asked" (as opposed to EAI_NONAME,
"the name does not exist", which is the target's problem)."""


class CheckerError(Exception):
    """The checker, not the target, failed."""


@dataclass(frozen=True, slots=True)
class StepResult:
    name: str
    ok: bool
    duration_ms: float
    detail: str = ""
    excerpt: str = ""
    status_code: int = 0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    check: str
    outcome: Outcome
    at: datetime
    """When the run was due (the scheduler's clock), the sample's timestamp."""
    total_ms: float
    steps: tuple[StepResult, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def failing(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)

    @property
    def steps_reached(self) -> int:
        """How many steps passed: 2 of 3 means step 3 failed."""
        return sum(1 for s in self.steps if s.ok)


def run_probe(spec: CheckSpec, at: datetime) -> ProbeResult:
    started = time.perf_counter()
    steps: list[StepResult] = []
    variables: dict[str, str] = {}
    outcome = Outcome.UP
    try:
        if spec.kind == "http":
            for index, step in enumerate(spec.steps):
                name = step.name or f"step{index + 1}"
                result = _http_step(name, step, variables)
                steps.append(result)
                if not result.ok:
                    outcome = Outcome.DOWN
                    break
        elif spec.kind == "tcp":
            steps.append(_tcp(spec))
        else:
            steps.append(_dns(spec))
        if steps and not steps[-1].ok:
            outcome = Outcome.DOWN
    except CheckerError as exc:
        outcome = Outcome.CHECKER_ERROR
        steps.append(
            StepResult(spec.step_names()[len(steps)], False, _ms(started), f"checker: {exc}")
        )
    total = _ms(started)
    if (
        outcome is Outcome.UP
        and spec.max_total_latency_ms is not None
        and total >= spec.max_total_latency_ms
    ):
        outcome = Outcome.DOWN
        last = steps[-1]
        steps[-1] = StepResult(
            last.name,
            False,
            last.duration_ms,
            f"total latency {total:.0f} ms is not below {spec.max_total_latency_ms} ms",
            last.excerpt,
            last.status_code,
        )
    return ProbeResult(spec.name, outcome, at, total, tuple(steps), variables)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def _fill(text: str, variables: dict[str, str]) -> str:
    def value(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in variables:
            # Validation guarantees an earlier step declares it; reaching here means
            # the checker skipped that step, not that the target misbehaved.
            raise CheckerError(f"variable {name!r} was never extracted")
        return variables[name]

    return VARIABLE.sub(value, text)


def _resolve_error(exc: socket.gaierror, host: str) -> StepResult | None:
    if exc.errno in _CHECKER_RESOLVER_ERRORS:
        raise CheckerError(f"the checker's resolver failed for {host!r}: {exc.strerror}")
    return None


def _http_step(name: str, step: HttpStep, variables: dict[str, str]) -> StepResult:
    url = _fill(step.url, variables)
    headers = {k: _fill(v, variables) for k, v in step.headers.items()}
    body = _fill(step.body, variables).encode() if step.body else None
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.perf_counter()
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        try:
            context = ssl.create_default_context(cafile=step.ca_file or None)
        except OSError as exc:
            raise CheckerError(f"cannot load ca_file {step.ca_file!r}: {exc}") from None
        if not step.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection(
            host, parts.port, timeout=step.timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=step.timeout)
    try:
        connection.connect()
        # Taken now: an HTTP/1.0 server's response closes the socket it came on.
        certificate = _peer_certificate(connection)
        connection.request(step.method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(MAX_BODY)
    except socket.gaierror as exc:
        _resolve_error(exc, host)
        return StepResult(name, False, _ms(started), f"cannot resolve {host!r}: {exc.strerror}")
    except ssl.SSLCertVerificationError as exc:
        return StepResult(name, False, _ms(started), f"TLS: {exc.verify_message or exc}")
    except TimeoutError:
        return StepResult(name, False, _ms(started), f"timed out after {step.timeout:g}s")
    except (OSError, http.client.HTTPException) as exc:
        return StepResult(name, False, _ms(started), f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    duration = _ms(started)
    text = raw.decode("utf-8", errors="replace")
    excerpt = text[:EXCERPT]
    for assertion in step.assertions:
        problem = _assert(assertion, response.status, text, duration, certificate)
        if problem:
            return StepResult(name, False, duration, problem, excerpt, response.status)
    for variable, extract in step.extract.items():
        found = _extract(extract.json_path, extract.header, extract.regex, response, text)
        if found is None:
            return StepResult(
                name, False, duration, f"could not extract {variable!r}", excerpt, response.status
            )
        variables[variable] = found
    return StepResult(name, True, duration, "", excerpt, response.status)


def _peer_certificate(connection: http.client.HTTPConnection) -> bytes | None:
    sock = connection.sock
    if isinstance(sock, ssl.SSLSocket):
        return sock.getpeercert(binary_form=True)
    return None


def _assert(
    assertion: Assertion, status: int, text: str, duration_ms: float, certificate: bytes | None
) -> str:
    if assertion.status is not None and status != assertion.status:
        return f"status {status}, expected {assertion.status}"
    if assertion.body_contains is not None and assertion.body_contains not in text:
        return f"body does not contain {assertion.body_contains!r}"
    if assertion.body_matches is not None and not re.search(assertion.body_matches, text):
        return f"body does not match {assertion.body_matches!r}"
    if assertion.json_equals is not None:
        try:
            document = json.loads(text)
        except ValueError:
            return "body is not JSON"
        found = _json_path(document, assertion.json_equals.path)
        if found != assertion.json_equals.value:
            return (
                f"{assertion.json_equals.path} is {json.dumps(found)[:80]}, "
                f"expected {json.dumps(assertion.json_equals.value)[:80]}"
            )
    if assertion.latency_below_ms is not None and duration_ms >= assertion.latency_below_ms:
        return f"took {duration_ms:.0f} ms, not below {assertion.latency_below_ms} ms"
    if assertion.cert_valid_days is not None:
        return _certificate_problem(certificate, assertion.cert_valid_days)
    return ""


def _certificate_problem(certificate: bytes | None, days: int) -> str:
    if certificate is None:
        return "no TLS certificate (not an https:// URL)"
    from cryptography import x509

    expires = x509.load_der_x509_certificate(certificate).not_valid_after_utc
    left = (expires - datetime.now(UTC)).total_seconds() / 86400
    if left < 0:
        return f"certificate expired {-left:.0f} days ago ({expires.date().isoformat()})"
    if left < days:
        return f"certificate expires in {left:.1f} days, fewer than {days}"
    return ""


def _json_path(document: Any, path: str) -> Any:
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _extract(
    json_path: str | None,
    header: str | None,
    regex: str | None,
    response: http.client.HTTPResponse,
    text: str,
) -> str | None:
    if header is not None:
        return response.getheader(header)
    if regex is not None:
        found = re.search(regex, text)
        return found.group(1) if found else None
    assert json_path is not None
    try:
        value = _json_path(json.loads(text), json_path)
    except ValueError:
        return None
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def _tcp(spec: CheckSpec) -> StepResult:
    started = time.perf_counter()
    try:
        with socket.create_connection((spec.host, spec.port), timeout=spec.timeout):
            pass
    except socket.gaierror as exc:
        _resolve_error(exc, spec.host)
        return StepResult("tcp", False, _ms(started), f"cannot resolve {spec.host!r}")
    except TimeoutError:
        return StepResult("tcp", False, _ms(started), f"timed out after {spec.timeout:g}s")
    except OSError as exc:
        return StepResult("tcp", False, _ms(started), f"connect failed: {exc.strerror or exc}")
    return StepResult("tcp", True, _ms(started), f"connected to {spec.host}:{spec.port}")


def _dns(spec: CheckSpec) -> StepResult:
    started = time.perf_counter()
    try:
        infos = socket.getaddrinfo(spec.host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        _resolve_error(exc, spec.host)
        return StepResult("dns", False, _ms(started), f"{spec.host!r}: {exc.strerror}")
    addresses = sorted({str(info[4][0]) for info in infos})
    detail = ", ".join(addresses)
    missing = [a for a in spec.expect_addresses if a not in addresses]
    if missing:
        return StepResult(
            "dns", False, _ms(started), f"{', '.join(missing)} not among {detail}", detail
        )
    return StepResult("dns", True, _ms(started), detail, detail)
