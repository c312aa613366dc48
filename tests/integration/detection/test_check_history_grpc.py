# ruff: noqa: F811 - tests request the imported fixtures by name
"""ListCheckResults carries the durable time series (ADR 0026) over real gRPC: after
the API process's application is replaced (a restart), the per-probe ring is empty but
the recorded outcomes are all there, read from the log."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf import duration_pb2

from detection_service.app import DetectionApplication
from detection_service.routing import parse_config
from firewatch.alert.v1 import alert_pb2 as pb
from firewatch.alert.v1 import alert_pb2_grpc as pb_grpc
from tests.integration.detection.test_grpc_alert_service import (  # noqa: F401
    AlertApi,
    _serve,
    alert_api,
)
from tests.integration.detection.test_synthetic_checks_grpc import (  # noqa: F401
    _definition,
    health_url,
)
from tests.integration.incident.conftest import StoreFactory, open_log  # noqa: F401


def test_the_recorded_outcomes_survive_a_restart_of_the_api(
    alert_api: AlertApi, health_url: str
) -> None:
    alert_api.call("DefineCheck", pb.DefineCheckRequest(definition=_definition(health_url)))
    assert alert_api.call("RunCheck", pb.RunCheckRequest(name="platform")).result.outcome == (
        pb.CHECK_OUTCOME_UP
    )
    went_down = alert_api.clock.advance(timedelta(minutes=5))
    broken = _definition(health_url, "/x")
    alert_api.call("DefineCheck", pb.DefineCheckRequest(definition=broken))
    assert alert_api.call("RunCheck", pb.RunCheckRequest(name="platform")).result.outcome == (
        pb.CHECK_OUTCOME_DOWN
    )
    alert_api.clock.advance(timedelta(minutes=1))

    restarted = DetectionApplication(
        alert_api.store, alert_api.clock, parse_config("group_by: [service]\n")
    )
    server = _serve(restarted, alert_api.tokens_file, writable=True)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = pb_grpc.AlertServiceStub(channel)  # type: ignore[no-untyped-call]
            answer = stub.ListCheckResults(
                pb.ListCheckResultsRequest(name="platform"), metadata=alert_api.auth("audrey")
            )
            assert list(answer.results) == []  # the ring lived in the old process
            up, down = answer.intervals
            assert (up.outcome, down.outcome) == (pb.CHECK_OUTCOME_UP, pb.CHECK_OUTCOME_DOWN)
            assert up.end == down.start
            assert down.start.ToDatetime().replace(tzinfo=went_down.tzinfo) == went_down
            assert not down.HasField("end")
            assert down.failing_step == "health"
            assert down.detail == "status 404, expected 200"
            assert answer.check.first_failed_at == down.start
            # A window that ends before the failure shows only the current interval.
            short = pb.ListCheckResultsRequest(
                name="platform", history=duration_pb2.Duration(seconds=30)
            )
            recent = stub.ListCheckResults(short, metadata=alert_api.auth("audrey"))
            assert [i.outcome for i in recent.intervals] == [pb.CHECK_OUTCOME_DOWN]
            negative = pb.ListCheckResultsRequest(
                name="platform", history=duration_pb2.Duration(seconds=-1)
            )
            with pytest.raises(grpc.RpcError) as refused:
                stub.ListCheckResults(negative, metadata=alert_api.auth("audrey"))
            assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
            assert "history" in (refused.value.details() or "")
    finally:
        server.stop(grace=0)
