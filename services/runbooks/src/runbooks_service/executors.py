"""Executors: perform a prepared action request and say what happened. I/O lives here.

One executor per action kind (`EXECUTORS`, keyed like `actions.KINDS`). An executor
never raises for a failed call: it returns a `Result` that says whether the call may
have been processed (`ambiguous`: a timeout or a connection lost after the request
was sent) so the decider can refuse to repeat a non-idempotent action.

HTTP: method, URL, headers and body as prepared; `Idempotency-Key: <run id>` (the same
on every attempt of a run); `X-Firewatch-Signature: t=<unix>,v1=<hex>` (HMAC-SHA256 of
`<t>.<body>`, as comms' webhooks) when the step names a signing secret; secret
headers and keys are read from the environment (FIREWATCH_RUNBOOK_SECRET_<NAME>) at
send time and never recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from runbooks_service.app import Job, Result
from runbooks_service.run import EXCERPT_BYTES

SECRET_PREFIX = "FIREWATCH_RUNBOOK_SECRET_"  # noqa: S105 - a variable name prefix

Secrets = Callable[[str], str | None]


def environment_secrets(name: str) -> str | None:
    return os.environ.get(SECRET_PREFIX + name)


def sign(secret: bytes, payload: bytes, at: int) -> str:
    digest = hmac.new(secret, f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def verify(secret: bytes, header: str, payload: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver runs: the signature matches and is recent."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        at = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - at) > tolerance:
        return False
    expected = sign(secret, payload, at).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def http_execute(job: Job, secrets: Secrets) -> Result:
    request: Mapping[str, Any] = job.request
    started = time.monotonic()
    headers = {str(k): str(v) for k, v in dict(request.get("headers") or {}).items()}
    for header, name in dict(request.get("secret_headers") or {}).items():
        value = secrets(str(name))
        if value is None:
            return Result(False, None, 0, error=f"secret {name} is not configured")
        headers[str(header)] = value
    body = str(request.get("body") or "").encode()
    headers["Idempotency-Key"] = job.idempotency_key
    headers["X-Firewatch-Run"] = str(job.run_id)
    headers["X-Firewatch-Attempt"] = str(job.attempt)
    if job.repeat_of is not None:
        headers["X-Firewatch-Possible-Repeat"] = "true"
    if request.get("hmac_secret"):
        key = secrets(str(request["hmac_secret"]))
        if key is None:
            return Result(
                False, None, 0, error=f"secret {request['hmac_secret']} is not configured"
            )
        headers["X-Firewatch-Signature"] = sign(key.encode(), body, int(time.time()))
    url = urlsplit(str(request["url"]))
    timeout = float(request.get("timeout_seconds") or 10.0)
    factory = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    connection = factory(url.hostname or "", url.port, timeout=timeout)
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    try:
        try:
            connection.connect()
        except OSError as error:
            # Nothing was sent: a definite failure, safe to retry for any action.
            return Result(False, None, _elapsed(started), error=f"cannot connect: {error}")
        try:
            connection.request(str(request.get("method", "POST")), path, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
        except TimeoutError:
            return Result(
                False, None, _elapsed(started), error=f"no answer within {timeout:g}s",
                timed_out=True, ambiguous=True,
            )  # fmt: skip
        except (OSError, http.client.HTTPException) as error:
            return Result(
                False, None, _elapsed(started), error=f"connection lost: {error}", ambiguous=True
            )
        ok = 200 <= response.status < 300
        return Result(ok, response.status, _elapsed(started), response_excerpt=excerpt,
                      error="" if ok else f"HTTP {response.status} {response.reason}")  # fmt: skip
    finally:
        connection.close()


EXECUTORS: dict[str, Callable[[Job, Secrets], Result]] = {"http": http_execute}

COOPERATIVE: frozenset[str] = frozenset({"http"})
"""Kinds whose executor only waits on sockets of the standard library (socket, ssl,
http.client, name resolution), which eventlet's monkey patching makes green: the
worker calls them on a greenthread. Any other kind runs in a real thread (tpool), so a
call blocking in C cannot freeze the worker (ADR 0029)."""


def execute(job: Job, secrets: Secrets = environment_secrets) -> Result:
    executor = EXECUTORS.get(job.kind)
    if executor is None:
        return Result(False, None, 0, error=f"this worker cannot run {job.kind!r} actions")
    return executor(job, secrets)
