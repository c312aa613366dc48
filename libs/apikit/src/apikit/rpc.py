"""gRPC plumbing every service API shares: auth guard, error mapping, server bootstrap,
and conversions between log/domain values and protobuf.

Owns the one table that maps domain and log errors to gRPC status codes, so every
service answers the same way. Servicers stay thin: a method decorated with `@guarded`
parses, calls the application layer and converts the result.

Runs only in the non-eventlet API process (stock grpcio hangs under eventlet, see
../shared/STACK-NOTES.md).
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

import grpc
import structlog
from google.protobuf import timestamp_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from apikit.auth import AuthenticationError, Principal, Role, ScopeError, TokenRegistry
from appkit.acting import acting_with
from contracts.domain import (
    DomainError,
    InvalidCommandError,
    NotFoundError,
    PreconditionFailedError,
)
from eventlog import (
    BackendUnavailableError,
    ConcurrencyError,
    InvalidEventError,
    RecordedEvent,
    StreamPermissionError,
)
from eventlog.validation import encode_json
from firewatch.eventlog.v1 import event_pb2

log = logging.getLogger(__name__)

Req = TypeVar("Req")
V = TypeVar("V")
Resp = TypeVar("Resp")


class HasTokens(Protocol):
    tokens: TokenRegistry


S = TypeVar("S", bound=HasTokens)


# ---------------------------------------------------------------------- errors


def abort_invalid(context: grpc.ServicerContext, field: str, problem: str) -> NoReturn:
    """INVALID_ARGUMENT whose message starts with the field and whose BadRequest
    detail names it, so both humans and programs can tell which input was wrong."""
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=problem)
        ]
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=f"{field}: {problem}")
    status.details.add().Pack(detail)
    context.abort_with_status(rpc_status.to_status(status))
    raise AssertionError("abort_with_status returns only by raising")  # pragma: no cover


def abort_for(context: grpc.ServicerContext, error: Exception) -> NoReturn:
    match error:
        case InvalidCommandError() | InvalidEventError():
            abort_invalid(context, error.field, error.problem)
        case NotFoundError():
            context.abort(grpc.StatusCode.NOT_FOUND, str(error))
        case PreconditionFailedError() | DomainError():
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(error))
        case ConcurrencyError():
            context.abort(
                grpc.StatusCode.ABORTED,
                f"{error}; concurrent updates kept conflicting, retry with the same "
                "idempotency_key",
            )
        case AuthenticationError():
            context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
        case StreamPermissionError() | ScopeError():
            context.abort(grpc.StatusCode.PERMISSION_DENIED, str(error))
        case BackendUnavailableError():
            context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
    log.exception("unexpected error in RPC", exc_info=error)
    context.abort(grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}")
    raise AssertionError("unreachable")  # pragma: no cover


def service_of(servicer: object) -> str:
    """The API a servicer implements, as token scopes name it: the proto package's
    name (`firewatch.incident.v1.IncidentService` -> `incident`), found from the
    generated base class so no servicer has to declare it."""
    for base in type(servicer).__mro__:
        module = base.__module__
        if module.startswith("firewatch.") and module.endswith("_pb2_grpc"):
            return module.split(".")[1]
    return type(servicer).__name__


def authenticate(
    tokens: TokenRegistry,
    context: grpc.ServicerContext,
    roles: frozenset[Role],
    service: str | None = None,
) -> Principal:
    token = None
    for key, value in context.invocation_metadata():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            token = value[len("Bearer ") :].strip()
    try:
        principal = tokens.authenticate(token)
    except AuthenticationError as error:
        context.abort(grpc.StatusCode.UNAUTHENTICATED, str(error))
        raise  # pragma: no cover
    if principal.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        context.abort(
            grpc.StatusCode.PERMISSION_DENIED,
            f"{principal.credential} has role {principal.role.value}; this call needs one "
            f"of: {allowed}",
        )
    if service is not None and not principal.may_call(service):
        context.abort(
            grpc.StatusCode.PERMISSION_DENIED,
            f"token {principal.credential!r} is scoped to "
            f"{', '.join(sorted(principal.services))}; it may not call the {service} API",
        )
    return principal


def guarded(
    roles: frozenset[Role],
) -> Callable[
    [Callable[[S, Req, grpc.ServicerContext, Principal], Resp]],
    Callable[[S, Req, grpc.ServicerContext], Resp],
]:
    """Authenticate (role and the token's service scope), pass the Principal as a
    third argument, record its credential on the events the call appends, map errors.

    Works for unary methods and for server-streaming generator methods alike."""

    def decorate(
        method: Callable[[S, Req, grpc.ServicerContext, Principal], Resp],
    ) -> Callable[[S, Req, grpc.ServicerContext], Resp]:
        if inspect.isgeneratorfunction(method):

            @functools.wraps(method)
            def streaming(self: S, request: Req, context: grpc.ServicerContext) -> Iterator[Any]:
                principal = authenticate(self.tokens, context, roles, service_of(self))
                try:
                    # Streams only read; nothing they do is attributed to a credential.
                    yield from method(self, request, context, principal)
                except grpc.RpcError:
                    raise
                except Exception as error:  # noqa: BLE001 - mapped to a status code
                    abort_for(context, error)

            return streaming  # type: ignore[return-value]

        @functools.wraps(method)
        def unary(self: S, request: Req, context: grpc.ServicerContext) -> Resp:
            principal = authenticate(self.tokens, context, roles, service_of(self))
            try:
                # Every event this call appends records the token's name (appkit.acting),
                # and every line it logs names the command (servicekit.logs).
                with (
                    acting_with(principal.credential),
                    command_context(method.__name__, request, principal),
                ):
                    return method(self, request, context, principal)
            except grpc.RpcError:
                raise
            except Exception as error:  # noqa: BLE001 - mapped to a status code
                abort_for(context, error)

        return unary

    return decorate


@contextmanager
def command_context(rpc: str, request: object, principal: Principal) -> Iterator[None]:
    """Bind, for logging, what the command is and what it belongs to: its method, who
    called, the incident it names (the correlation id the events will carry) and its
    idempotency key (the command that causes the events), when the request has them."""
    incident = getattr(request, "incident_id", "") or getattr(request, "incident", "")
    incident = incident if isinstance(incident, str) else ""
    key = getattr(request, "idempotency_key", "")
    try:
        # Events are correlated by the incident's uuid; a reference (INC-7) is kept as is.
        correlation = str(uuid.UUID(incident)) if incident else None
    except ValueError:
        correlation = None
    with structlog.contextvars.bound_contextvars(
        rpc=rpc,
        actor=principal.name,
        credential=principal.credential,
        incident=incident or None,
        correlation_id=correlation,
        causation_id=key if isinstance(key, str) and key else None,
    ):
        yield


# ---------------------------------------------------------------------- conversions


def to_timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value.astimezone(UTC))
    return stamp


def from_timestamp(value: timestamp_pb2.Timestamp) -> datetime:
    converted: datetime = value.ToDatetime(tzinfo=UTC)
    return converted


def read_timestamp(value: timestamp_pb2.Timestamp, field: str) -> datetime:
    """A request's timestamp; one outside datetime's range is the caller's mistake."""
    try:
        return from_timestamp(value)
    except (ValueError, OverflowError):
        raise InvalidCommandError(field, "is not a valid timestamp") from None


def optional_timestamp(request: Any, field: str) -> datetime | None:
    """The request's timestamp `field`, or None when the client did not set it."""
    return read_timestamp(getattr(request, field), field) if request.HasField(field) else None


def set_timestamp(message: Any, field: str, value: datetime | None) -> None:
    """Set a Timestamp field of `message`, leaving it unset for None."""
    stamp = to_timestamp(value)
    if stamp is not None:
        getattr(message, field).CopyFrom(stamp)


def known_enum(value: int, table: Mapping[Any, V], field: str, what: str) -> V:
    """Translate a protobuf enum value; UNSPECIFIED and unknown numbers name the field."""
    if value not in table:
        raise InvalidCommandError(field, f"must be set to a known {what} (got {value})")
    return table[value]


def to_log_event(event: RecordedEvent) -> event_pb2.LogEvent:
    metadata = event.metadata
    message = event_pb2.LogEvent(
        event_id=str(event.id),
        stream=event.stream,
        version=event.version,
        position=event.position,
        type=event.type,
        schema_version=event.schema_version,
        data_json=encode_json(event.data, "data"),
        correlation_id=metadata.correlation_id or "",
        causation_id=metadata.causation_id or "",
        actor=metadata.actor or "",
        credential=metadata.credential or "",
        prev_hash=event.prev_hash,
        hash=event.hash,
    )
    message.recorded_at.CopyFrom(to_timestamp(event.recorded_at))
    if metadata.occurred_at is not None:
        message.occurred_at.CopyFrom(to_timestamp(metadata.occurred_at))
    return message


# ---------------------------------------------------------------------- server


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    private_key: Path


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()


def start_server(
    *,
    host: str,
    port: int,
    register: Iterable[Callable[[grpc.Server], None]],
    service_names: Sequence[str],
    tls: TlsFiles | None = None,
    max_workers: int = 16,
) -> RunningServer:
    """Start a gRPC server with health checking and reflection; port 0 picks a free one."""
    from apikit.metrics import MetricsInterceptor

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers),
        interceptors=(MetricsInterceptor(),),
    )
    for add in register:
        add(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *service_names):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{host}:{port}"
    if tls is None:
        bound = server.add_insecure_port(address)
    else:
        credentials = grpc.ssl_server_credentials(
            [(tls.private_key.read_bytes(), tls.certificate.read_bytes())]
        )
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"cannot listen on {address}")
    server.start()
    return RunningServer(server, bound, health_servicer)


def tls_files(certificate: Path | None, private_key: Path | None) -> TlsFiles | None:
    """TLS when both files are configured, plaintext otherwise."""
    if certificate and private_key:
        return TlsFiles(certificate, private_key)
    return None


def serve_until_signalled(running: RunningServer, banner: str) -> None:
    """An API process's main loop: print `banner` (tests and `make run` wait for it),
    serve until SIGTERM or SIGINT, then stop gracefully."""
    import signal
    import threading

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(banner, flush=True)
    stopping.wait()
    running.stop()
