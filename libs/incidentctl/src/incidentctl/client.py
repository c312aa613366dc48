"""A typed, retrying client for firewatch.incident.v1.IncidentService.

Owns everything between a command and the wire: opening the channel (plaintext or
TLS), the bearer token, per-call deadlines, the bounded transparent retry of unary
calls and the resuming watch stream. Every gRPC failure leaves this module as a
CliError carrying its exit code (errors.py), so commands never see grpc.RpcError.

Retrying is safe because every mutating request carries an idempotency key, generated
once per command invocation: a retried command that had in fact been applied is
answered with the original outcome (`replayed`) and appends nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from firewatch.alert.v1 import alert_pb2 as alert_pb
from firewatch.alert.v1 import alert_pb2_grpc as alert_grpc
from firewatch.eventlog.v1 import event_pb2
from firewatch.incident.v1 import incident_pb2 as pb
from firewatch.incident.v1 import incident_pb2_grpc as pb_grpc
from incidentctl.errors import CliError, ExitCode, code_of, translate

DEFAULT_SERVER = "127.0.0.1:50051"
DEFAULT_ALERT_SERVER = "127.0.0.1:50052"

# Codes worth another attempt of the same request: the server was not reached or was
# restarting (UNAVAILABLE), or concurrent writers kept conflicting and the server asks
# for a retry with the same idempotency key (ABORTED).
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED})

# A live stream that ends with one of these (or ends at all: a watch never ends by
# itself) lost its connection, not its permission: resume it. Anything else (bad
# token, unknown incident) would fail again the same way.
RESUMABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED})

R = TypeVar("R", bound=Message)


@dataclass(frozen=True)
class Settings:
    """How to reach and authenticate to the API, from flags or the environment."""

    server: str = DEFAULT_SERVER
    alert_server: str = DEFAULT_ALERT_SERVER
    """The detection service's AlertService (alert, silence, rule, heartbeat commands)."""
    token: str | None = None
    token_file: Path | None = None
    tls: bool = False
    ca_cert: Path | None = None
    timeout: float = 10.0
    attempts: int = 4

    def resolved_token(self) -> str | None:
        """--token wins over --token-file; the file holds the token and maybe a newline."""
        if self.token:
            return self.token.strip()
        if self.token_file is None:
            return None
        try:
            token = self.token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CliError(
                f"cannot read the token file {self.token_file}: {error.strerror or error}",
                ExitCode.USAGE,
            ) from None
        if not token:
            raise CliError(f"the token file {self.token_file} is empty", ExitCode.USAGE)
        return token


@dataclass(frozen=True)
class Backoff:
    """Waits between attempts: exponential with jitter, capped."""

    initial: float = 0.25
    maximum: float = 2.0
    # A watch reconnects for as long as it runs, so it may wait longer between tries.
    watch_maximum: float = 10.0


Sleep = Callable[[float], None]
Notify = Callable[[str], None]


class ApiClient:
    """What every service's client shares: token metadata, deadlines, bounded retries of
    unary calls, and the translation of failures into CliErrors naming the API."""

    API_NAME = "incident API"
    ADDRESS_OPTION = "--server or FIREWATCH_SERVER"

    def __init__(
        self,
        # A generated service stub (untyped), or a test double of it.
        stub: Any,
        settings: Settings,
        *,
        token: str | None,
        backoff: Backoff | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._stub = stub
        self.settings = settings
        self._token = token
        self._backoff = backoff or Backoff()
        self._sleep = sleep

    @property
    def target(self) -> str:
        return self.settings.server

    def _metadata(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self._token}")] if self._token else []

    def _unary(self, method: str, request: Message, response_type: type[R]) -> R:
        call = getattr(self._stub, method)
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.settings.attempts)),
            wait=wait_exponential_jitter(
                multiplier=self._backoff.initial, max=self._backoff.maximum, jitter=0.1
            ),
            retry=retry_if_exception(
                lambda error: isinstance(error, grpc.RpcError) and code_of(error) in RETRYABLE
            ),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            response = retrying(
                call, request, metadata=self._metadata(), timeout=self.settings.timeout
            )
        except grpc.RpcError as error:
            raise self._translate(
                error,
                idempotency_key=getattr(request, "idempotency_key", None) or None,
                attempts=_attempts(retrying.statistics),
            ) from None
        if not isinstance(response, response_type):  # pragma: no cover - a stub mismatch
            raise TypeError(f"{method} answered {type(response).__name__}")
        return response

    def _translate(
        self, error: grpc.RpcError, *, idempotency_key: str | None = None, attempts: int = 1
    ) -> CliError:
        return translate(
            error,
            target=self.target,
            tls=self.settings.tls,
            timeout=self.settings.timeout,
            token_given=self._token is not None,
            idempotency_key=idempotency_key,
            attempts=attempts,
            api=self.API_NAME,
            address_option=self.ADDRESS_OPTION,
        )


class IncidentClient(ApiClient):
    """One connection's worth of calls; use `connect()` to build and close it."""

    # ------------------------------------------------------------------ unary calls

    def declare(self, request: pb.DeclareIncidentRequest) -> pb.DeclareIncidentResponse:
        return self._unary("DeclareIncident", request, pb.DeclareIncidentResponse)

    def assign(self, request: pb.AssignCommanderRequest) -> pb.AssignCommanderResponse:
        return self._unary("AssignCommander", request, pb.AssignCommanderResponse)

    def change_severity(self, request: pb.ChangeSeverityRequest) -> pb.ChangeSeverityResponse:
        return self._unary("ChangeSeverity", request, pb.ChangeSeverityResponse)

    def update_status(self, request: pb.UpdateStatusRequest) -> pb.UpdateStatusResponse:
        return self._unary("UpdateStatus", request, pb.UpdateStatusResponse)

    def add_note(self, request: pb.AddNoteRequest) -> pb.AddNoteResponse:
        return self._unary("AddNote", request, pb.AddNoteResponse)

    def record_mitigation(self, request: pb.RecordMitigationRequest) -> pb.RecordMitigationResponse:
        return self._unary("RecordMitigation", request, pb.RecordMitigationResponse)

    def resolve(self, request: pb.ResolveIncidentRequest) -> pb.ResolveIncidentResponse:
        return self._unary("ResolveIncident", request, pb.ResolveIncidentResponse)

    def reopen(self, request: pb.ReopenIncidentRequest) -> pb.ReopenIncidentResponse:
        return self._unary("ReopenIncident", request, pb.ReopenIncidentResponse)

    def get(self, request: pb.GetIncidentRequest) -> pb.GetIncidentResponse:
        return self._unary("GetIncident", request, pb.GetIncidentResponse)

    def list_page(self, request: pb.ListIncidentsRequest) -> pb.ListIncidentsResponse:
        return self._unary("ListIncidents", request, pb.ListIncidentsResponse)

    def timeline(self, request: pb.GetTimelineRequest) -> pb.GetTimelineResponse:
        return self._unary("GetTimeline", request, pb.GetTimelineResponse)

    def list_all(
        self, request: pb.ListIncidentsRequest, limit: int | None, *, page_size: int = 100
    ) -> list[pb.Incident]:
        """Every incident the filter matches, following page tokens (up to `limit`)."""
        found: list[pb.Incident] = []
        token = ""
        while limit is None or len(found) < limit:
            page = pb.ListIncidentsRequest()
            page.CopyFrom(request)
            page.page_size = page_size if limit is None else min(page_size, limit - len(found))
            page.page_token = token
            answer = self.list_page(page)
            found.extend(answer.incidents)
            token = answer.next_page_token
            if not token:
                break
        return found if limit is None else found[:limit]

    # ------------------------------------------------------------------ streams

    def watch(
        self,
        incident: str | None,
        from_position: int,
        *,
        notify: Notify,
    ) -> Generator[event_pb2.LogEvent, None, None]:
        """Events from `from_position` on, then live, forever (close the iterator to stop).

        A dropped connection is resumed at the last position seen + 1 after a capped,
        growing wait, so no event is shown twice or skipped. `notify` hears about each
        reconnection (the CLI prints it on stderr)."""
        position = from_position
        delay = self._backoff.initial
        while True:
            stream = self._open_stream(incident, position)
            try:
                for response in stream:
                    event: event_pb2.LogEvent = response.event
                    position = event.position + 1
                    delay = self._backoff.initial
                    yield event
                reason = "the server ended the stream"
            except grpc.RpcError as error:
                if code_of(error) not in RESUMABLE:
                    raise self._translate(error) from None
                reason = "connection lost"
            finally:
                stream.cancel()
            notify(f"watch: {reason}; resuming from position {position} in {delay:g}s")
            self._sleep(delay)
            delay = min(delay * 2, self._backoff.watch_maximum)

    def _open_stream(self, incident: str | None, position: int) -> Any:
        # No deadline: a watch is meant to stay open; --timeout bounds unary calls only.
        if incident is None:
            return self._stub.WatchAll(
                pb.WatchAllRequest(from_position=position), metadata=self._metadata()
            )
        return self._stub.WatchIncident(
            pb.WatchIncidentRequest(incident=incident, from_position=position),
            metadata=self._metadata(),
        )


def _attempts(statistics: dict[str, Any]) -> int:
    number = statistics.get("attempt_number", 1)
    return number if isinstance(number, int) else 1


def open_channel(settings: Settings, target: str | None = None) -> Any:
    """A plaintext or TLS channel to `target` (default `settings.server`; TLS roots:
    --ca-cert or system)."""
    target = target or settings.server
    if not settings.tls:
        return grpc.insecure_channel(target)
    roots = None
    if settings.ca_cert is not None:
        try:
            roots = settings.ca_cert.read_bytes()
        except OSError as error:
            raise CliError(
                f"cannot read the CA certificate {settings.ca_cert}: {error.strerror or error}",
                ExitCode.USAGE,
            ) from None
    return grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots))


@contextmanager
def connect(settings: Settings) -> Iterator[IncidentClient]:
    """A client on a fresh channel, closed on exit."""
    # Read the token before opening a connection: a bad token file is a local mistake.
    token = settings.resolved_token()
    channel = open_channel(settings)
    try:
        stub = pb_grpc.IncidentServiceStub(channel)  # type: ignore[no-untyped-call]
        yield IncidentClient(stub, settings, token=token)
    finally:
        channel.close()


class AlertClient(ApiClient):
    """Calls to firewatch.alert.v1.AlertService; use `connect_alerts()`."""

    API_NAME = "alert API"
    ADDRESS_OPTION = "--alert-server or FIREWATCH_ALERT_SERVER"

    @property
    def target(self) -> str:
        return self.settings.alert_server

    def send(self, request: alert_pb.SendAlertRequest) -> alert_pb.SendAlertResponse:
        return self._unary("SendAlert", request, alert_pb.SendAlertResponse)

    def get(self, request: alert_pb.GetAlertRequest) -> alert_pb.GetAlertResponse:
        return self._unary("GetAlert", request, alert_pb.GetAlertResponse)

    def list_all(
        self, request: alert_pb.ListAlertsRequest, limit: int | None, *, page_size: int = 100
    ) -> list[alert_pb.Alert]:
        """Every alert the filter matches, newest first, following page tokens."""
        found: list[alert_pb.Alert] = []
        token = ""
        while limit is None or len(found) < limit:
            page = alert_pb.ListAlertsRequest()
            page.CopyFrom(request)
            page.page_size = page_size if limit is None else min(page_size, limit - len(found))
            page.page_token = token
            answer = self._unary("ListAlerts", page, alert_pb.ListAlertsResponse)
            found.extend(answer.alerts)
            token = answer.next_page_token
            if not token:
                break
        return found if limit is None else found[:limit]

    def create_silence(
        self, request: alert_pb.CreateSilenceRequest
    ) -> alert_pb.CreateSilenceResponse:
        return self._unary("CreateSilence", request, alert_pb.CreateSilenceResponse)

    def list_silences(self, request: alert_pb.ListSilencesRequest) -> alert_pb.ListSilencesResponse:
        return self._unary("ListSilences", request, alert_pb.ListSilencesResponse)

    def expire_silence(
        self, request: alert_pb.ExpireSilenceRequest
    ) -> alert_pb.ExpireSilenceResponse:
        return self._unary("ExpireSilence", request, alert_pb.ExpireSilenceResponse)

    def list_rules(self) -> alert_pb.ListRulesResponse:
        return self._unary("ListRules", alert_pb.ListRulesRequest(), alert_pb.ListRulesResponse)

    def validate_rules(
        self, request: alert_pb.ValidateRulesRequest
    ) -> alert_pb.ValidateRulesResponse:
        return self._unary("ValidateRules", request, alert_pb.ValidateRulesResponse)

    def create_heartbeat(
        self, request: alert_pb.CreateHeartbeatRequest
    ) -> alert_pb.CreateHeartbeatResponse:
        return self._unary("CreateHeartbeat", request, alert_pb.CreateHeartbeatResponse)

    def list_heartbeats(self) -> alert_pb.ListHeartbeatsResponse:
        return self._unary(
            "ListHeartbeats", alert_pb.ListHeartbeatsRequest(), alert_pb.ListHeartbeatsResponse
        )

    def ping_heartbeat(
        self, request: alert_pb.PingHeartbeatRequest
    ) -> alert_pb.PingHeartbeatResponse:
        return self._unary("PingHeartbeat", request, alert_pb.PingHeartbeatResponse)

    def define_check(self, definition: str) -> alert_pb.DefineCheckResponse:
        request = alert_pb.DefineCheckRequest(definition=definition)
        return self._unary("DefineCheck", request, alert_pb.DefineCheckResponse)

    def remove_check(self, name: str) -> alert_pb.RemoveCheckResponse:
        request = alert_pb.RemoveCheckRequest(name=name)
        return self._unary("RemoveCheck", request, alert_pb.RemoveCheckResponse)

    def list_checks(self) -> alert_pb.ListChecksResponse:
        return self._unary("ListChecks", alert_pb.ListChecksRequest(), alert_pb.ListChecksResponse)

    def run_check(self, name: str) -> alert_pb.RunCheckResponse:
        request = alert_pb.RunCheckRequest(name=name)
        return self._unary("RunCheck", request, alert_pb.RunCheckResponse)

    def check_results(
        self, name: str, limit: int, history_hours: int = 24
    ) -> alert_pb.ListCheckResultsResponse:
        request = alert_pb.ListCheckResultsRequest(name=name, limit=limit)
        request.history.FromTimedelta(timedelta(hours=history_hours))
        return self._unary("ListCheckResults", request, alert_pb.ListCheckResultsResponse)


@contextmanager
def connect_alerts(settings: Settings) -> Iterator[AlertClient]:
    """An AlertService client on a fresh channel to `settings.alert_server`, closed on exit."""
    token = settings.resolved_token()
    channel = open_channel(settings, settings.alert_server)
    try:
        stub = alert_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
        yield AlertClient(stub, settings, token=token)
    finally:
        channel.close()
