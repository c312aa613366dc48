"""What can go wrong in one incidentctl run, and the exit code each failure maps to.

Owns the exit-code contract (documented in `incidentctl --help`) and the translation of
gRPC status codes into one-line messages a person can act on. Nothing here prints: the
command layer (main.py) writes the message to stderr and exits with the code.
"""

from __future__ import annotations

import enum

import grpc


class ExitCode(enum.IntEnum):
    OK = 0
    SERVER_ERROR = 1  # the server answered and refused, or could not do it
    USAGE = 2  # typer's own code for bad flags and arguments; we reuse it for local input
    CONNECTION = 3  # never got an answer: unreachable, TLS, DNS, deadline


class CliError(Exception):
    """A failure to report as `error: <message>` and exit with `exit_code`."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# grpc-core's own wording when no HTTP/2 connection could be made. An UNAVAILABLE whose
# details match none of these came from the server itself (e.g. its log backend is down)
# and its message is worth showing as is.
_TRANSPORT_FAILURES = (
    "failed to connect",
    "connections to all backends failing",
    "socket closed",
    "connection reset",
    "connection refused",
    "broken pipe",
    "goaway",
    "handshake",
    "ssl",
    "tls",
    "empty address list",
    "name resolution",
)


def code_of(error: grpc.RpcError) -> grpc.StatusCode | None:
    # Errors raised by grpc's call objects carry code()/details(); a bare RpcError
    # (possible from interceptors or fakes) does not, and we must not crash on it.
    code = getattr(error, "code", None)
    result = code() if callable(code) else None
    return result if isinstance(result, grpc.StatusCode) else None


def details_of(error: grpc.RpcError) -> str:
    details = getattr(error, "details", None)
    text = details() if callable(details) else None
    return str(text) if text else ""


def translate(
    error: grpc.RpcError,
    *,
    target: str,
    tls: bool,
    timeout: float,
    token_given: bool,
    idempotency_key: str | None = None,
    attempts: int = 1,
    api: str = "incident API",
    address_option: str = "--server or FIREWATCH_SERVER",
) -> CliError:
    """The message and exit code for a call that failed for good (after any retries)."""
    code = code_of(error)
    details = details_of(error)
    lowered = details.lower()
    if code is grpc.StatusCode.UNAVAILABLE:
        if "dns resolution failed" in lowered:
            return CliError(
                f"cannot resolve the {api} address {target} — check {address_option}",
                ExitCode.CONNECTION,
            )
        if tls and any(word in lowered for word in ("ssl", "tls", "handshake", "certificate")):
            return CliError(
                f"TLS handshake with the {api} at {target} failed — check --ca-cert "
                "and that the server has TLS enabled",
                ExitCode.CONNECTION,
            )
        if details and not any(marker in lowered for marker in _TRANSPORT_FAILURES):
            return CliError(f"the {api} at {target} is unavailable: {details}", ExitCode.CONNECTION)
        hint = " (or does it expect --tls?)" if not tls and "socket closed" in lowered else ""
        return CliError(
            f"cannot reach the {api} at {target} — is `make run` running?{hint}",
            ExitCode.CONNECTION,
        )
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        message = f"the {api} at {target} did not answer within {timeout:g}s (--timeout)"
        if idempotency_key:
            # The command may have been applied after all; the key makes a rerun safe.
            message += (
                f"; the command may still have been applied — rerun with "
                f"--idempotency-key {idempotency_key} to retry without duplicating it"
            )
        return CliError(message, ExitCode.CONNECTION)
    if code is grpc.StatusCode.UNAUTHENTICATED:
        message = details or "not authenticated"
        if not token_given:
            message += " — pass --token or --token-file, or set FIREWATCH_TOKEN"
        return CliError(message, ExitCode.SERVER_ERROR)
    if code is grpc.StatusCode.ABORTED and attempts > 1:
        return CliError(f"{details} (gave up after {attempts} attempts)", ExitCode.SERVER_ERROR)
    if code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, None):
        return CliError(f"the {api} failed: {details or 'no details'}", ExitCode.SERVER_ERROR)
    # INVALID_ARGUMENT ("<field>: <problem>"), NOT_FOUND, FAILED_PRECONDITION,
    # PERMISSION_DENIED: the server's message is already written for people.
    return CliError(details or code.name.lower().replace("_", " "), ExitCode.SERVER_ERROR)
