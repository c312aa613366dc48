"""The client's retry and resume rules, against a scripted stand-in for the gRPC stub.

A real server cannot be made to answer ABORTED or to drop a stream after exactly two
events on demand; these rules are what keeps retries from duplicating commands and
resumed watches from repeating or skipping events, so they are pinned down here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from firewatch.eventlog.v1 import event_pb2
from firewatch.incident.v1 import incident_pb2 as pb
from incidentctl.client import Backoff, IncidentClient, Settings
from incidentctl.errors import CliError, ExitCode


class FakeRpcError(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        super().__init__(details)
        self._code = code
        self._details = details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


class FakeStream:
    """A server-streaming call: yields its events, then raises `error` if one is set."""

    def __init__(self, positions: list[int], error: FakeRpcError | None = None) -> None:
        self._positions = positions
        self._error = error
        self.cancelled = False

    def __iter__(self) -> Iterator[Any]:
        for position in self._positions:
            yield pb.WatchIncidentResponse(
                event=event_pb2.LogEvent(position=position, type="TimelineNoteAdded")
            )
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        self.cancelled = True


class FakeStub:
    """Answers each call from a script: a response, or an error to raise."""

    def __init__(self, **scripts: list[Any]) -> None:
        self._scripts = scripts
        self.calls: list[tuple[str, Any, Any]] = []

    def __getattr__(self, method: str) -> Any:
        def call(request: Any, metadata: Any = None, timeout: Any = None) -> Any:
            self.calls.append((method, request, metadata))
            answer = self._scripts[method].pop(0)
            if isinstance(answer, FakeRpcError):
                raise answer
            return answer

        return call


def client(stub: FakeStub, sleeps: list[float], **settings: Any) -> IncidentClient:
    return IncidentClient(
        stub,
        Settings(server="incidents.example:50051", **settings),
        token="fwt_test",
        backoff=Backoff(initial=0.25, maximum=2.0, watch_maximum=1.0),
        sleep=sleeps.append,
    )


def note(key: str = "k-1") -> pb.AddNoteRequest:
    return pb.AddNoteRequest(incident="INC-1", text="x", idempotency_key=key)


def test_aborted_and_unavailable_are_retried_with_the_same_idempotency_key() -> None:
    done = pb.AddNoteResponse(outcome=pb.CommandOutcome(reference="INC-1", replayed=True))
    stub = FakeStub(
        AddNote=[
            FakeRpcError(grpc.StatusCode.ABORTED, "conflict"),
            FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"),
            done,
        ]
    )
    sleeps: list[float] = []

    answer = client(stub, sleeps).add_note(note("k-1"))

    assert answer == done
    assert [request.idempotency_key for _, request, _ in stub.calls] == ["k-1"] * 3
    assert all(metadata == [("authorization", "Bearer fwt_test")] for *_, metadata in stub.calls)
    assert len(sleeps) == 2
    assert sleeps[0] < sleeps[1] <= 2.0


def test_retrying_is_bounded_and_ends_as_a_connection_problem() -> None:
    down = FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses")
    stub = FakeStub(GetIncident=[down] * 10)
    sleeps: list[float] = []

    with pytest.raises(CliError) as raised:
        client(stub, sleeps, attempts=3).get(pb.GetIncidentRequest(incident="INC-1"))

    assert len(stub.calls) == 3
    assert len(sleeps) == 2
    assert raised.value.exit_code is ExitCode.CONNECTION
    assert raised.value.message == (
        "cannot reach the incident API at incidents.example:50051 — is `make run` running?"
    )


def test_a_lasting_conflict_reports_the_servers_message_and_the_attempts() -> None:
    stub = FakeStub(AddNote=[FakeRpcError(grpc.StatusCode.ABORTED, "conflict")] * 4)
    with pytest.raises(CliError) as raised:
        client(stub, []).add_note(note())
    assert raised.value.exit_code is ExitCode.SERVER_ERROR
    assert raised.value.message == "conflict (gave up after 4 attempts)"


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    ],
)
def test_refusals_are_not_retried(code: grpc.StatusCode) -> None:
    stub = FakeStub(AddNote=[FakeRpcError(code, "text: no")])
    with pytest.raises(CliError) as raised:
        client(stub, []).add_note(note())
    assert len(stub.calls) == 1
    assert (raised.value.exit_code, raised.value.message) == (ExitCode.SERVER_ERROR, "text: no")


def test_a_deadline_on_a_command_says_how_to_retry_it_safely() -> None:
    stub = FakeStub(AddNote=[FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline")])
    with pytest.raises(CliError) as raised:
        client(stub, [], timeout=2.5).add_note(note("k-9"))
    assert raised.value.exit_code is ExitCode.CONNECTION
    assert "did not answer within 2.5s" in raised.value.message
    assert "--idempotency-key k-9" in raised.value.message


def test_a_server_side_unavailable_keeps_the_servers_reason() -> None:
    stub = FakeStub(GetIncident=[FakeRpcError(grpc.StatusCode.UNAVAILABLE, "log backend down")])
    with pytest.raises(CliError) as raised:
        client(stub, [], attempts=1).get(pb.GetIncidentRequest(incident="INC-1"))
    assert raised.value.message == (
        "the incident API at incidents.example:50051 is unavailable: log backend down"
    )


def test_list_follows_page_tokens_until_the_last_page_or_the_limit() -> None:
    def page(numbers: list[int], token: str) -> pb.ListIncidentsResponse:
        return pb.ListIncidentsResponse(
            incidents=[pb.Incident(reference=f"INC-{n}") for n in numbers], next_page_token=token
        )

    stub = FakeStub(ListIncidents=[page([5, 4], "a"), page([3, 2], "b"), page([1], "")])
    found = client(stub, []).list_all(pb.ListIncidentsRequest(service="web"), None, page_size=2)
    assert [i.reference for i in found] == ["INC-5", "INC-4", "INC-3", "INC-2", "INC-1"]
    assert [(r.page_token, r.service) for _, r, _ in stub.calls] == [
        ("", "web"),
        ("a", "web"),
        ("b", "web"),
    ]

    limited = FakeStub(ListIncidents=[page([5, 4], "a"), page([3], "b")])
    found = client(limited, []).list_all(pb.ListIncidentsRequest(), 3, page_size=2)
    assert [i.reference for i in found] == ["INC-5", "INC-4", "INC-3"]
    assert [r.page_size for _, r, _ in limited.calls] == [2, 1]


def test_a_dropped_watch_resumes_after_the_last_position_seen() -> None:
    dropped = FakeStream([5, 6], FakeRpcError(grpc.StatusCode.UNAVAILABLE, "Socket closed"))
    ended = FakeStream([7])  # a graceful server shutdown just ends the stream
    refused = FakeStream([], FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect"))
    resumed = FakeStream([8, 9])
    stub = FakeStub(WatchIncident=[dropped, ended, refused, resumed])
    sleeps: list[float] = []
    notices: list[str] = []

    events = client(stub, sleeps).watch("INC-1", 5, notify=notices.append)
    positions = [next(events).position for _ in range(5)]
    events.close()

    assert positions == [5, 6, 7, 8, 9]
    assert [request.from_position for _, request, _ in stub.calls] == [5, 7, 8, 8]
    # The wait grows while reconnecting fails and starts over once events flow again.
    assert sleeps == [0.25, 0.25, 0.5]
    assert notices == [
        "watch: connection lost; resuming from position 7 in 0.25s",
        "watch: the server ended the stream; resuming from position 8 in 0.25s",
        "watch: connection lost; resuming from position 8 in 0.5s",
    ]
    assert all(stream.cancelled for stream in (dropped, ended, refused, resumed))


def test_a_watch_refused_by_the_server_stops_instead_of_reconnecting() -> None:
    stub = FakeStub(
        WatchAll=[FakeStream([3], FakeRpcError(grpc.StatusCode.UNAUTHENTICATED, "token revoked"))]
    )
    events = client(stub, []).watch(None, 3, notify=print)
    assert next(events).position == 3
    with pytest.raises(CliError) as raised:
        next(events)
    assert (raised.value.exit_code, raised.value.message) == (
        ExitCode.SERVER_ERROR,
        "token revoked",
    )
    [(method, request, _)] = stub.calls
    assert (method, request.from_position) == ("WatchAll", 3)
