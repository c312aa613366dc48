"""incidentctl postmortem / actions / report against a real PostmortemService server:
roles enforced, bad input refused with the field named, charts written."""

from __future__ import annotations

from pathlib import Path

import grpc

from firewatch.postmortem.v1 import postmortem_pb2 as pb
from firewatch.postmortem.v1 import postmortem_pb2_grpc as pb_grpc
from tests.integration.postmortem.conftest import Api, World, run_cli


def test_root_cause_action_item_publish_and_report_through_the_cli(
    world: World, api: Api, tmp_path: Path
) -> None:
    world.resolved_incident("P1")
    shown = run_cli(api, "postmortem", "show", "INC-1")
    assert shown.exit_code == 0, shown.output
    assert "owner alice" in shown.output
    refused = run_cli(api, "postmortem", "root-cause", "INC-1", "Restarted the pods")
    assert refused.exit_code == 1
    assert "root_cause" in refused.output
    published_early = run_cli(api, "postmortem", "publish", "INC-1")
    assert published_early.exit_code == 1
    assert "root_cause: is required to publish" in published_early.output
    assert (
        run_cli(
            api, "postmortem", "root-cause", "INC-1", "The pool limit was below the worker count."
        ).exit_code
        == 0
    )
    unknown = run_cli(
        api, "actions", "add", "INC-1", "Alert on pool saturation", "--owner", "mallory",
        "--due", "2026-12-31",
    )  # fmt: skip
    assert unknown.exit_code == 1
    assert "owner" in unknown.output
    past = run_cli(
        api, "actions", "add", "INC-1", "Alert on pool saturation", "--owner", "alice",
        "--due", "2020-01-01",
    )  # fmt: skip
    assert "due_date" in past.output
    added = run_cli(
        api, "actions", "add", "INC-1", "Alert on pool saturation", "--owner", "alice",
        "--due", "2026-12-31", "--kind", "monitoring",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    entry = run_cli(
        api, "postmortem", "add-entry", "INC-1", "2026-11-30T09:01:00Z", "First support ticket"
    )
    assert entry.exit_code == 0, entry.output
    timeline = run_cli(api, "postmortem", "timeline", "INC-1")
    assert "First support ticket" in timeline.output
    assert "Incident declared (P1)" in timeline.output
    published = run_cli(api, "postmortem", "publish", "INC-1")
    assert published.exit_code == 0, published.output
    assert "published" in published.output
    frozen = run_cli(api, "postmortem", "edit", "INC-1", "summary", "late change")
    assert frozen.exit_code == 1
    assert "summary: the postmortem is published" in frozen.output
    listed = run_cli(api, "actions", "list", "--owner", "alice")
    assert "Alert on pool saturation" in listed.output
    report = run_cli(api, "report", "--charts", str(tmp_path / "charts"), who="audrey")
    assert report.exit_code == 0, report.output
    assert "MTTR" in report.output
    assert "never acknowledged 1" in report.output
    assert "metric definition v1" in report.output
    for name in ("incidents-by-month.png", "mttr-by-month.png", "incidents-by-severity.png"):
        assert (tmp_path / "charts" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = run_cli(api, "postmortem", "export", "INC-1", who="audrey")
    assert "## Root cause" in markdown.output


def test_roles_are_enforced_on_every_method(world: World, api: Api) -> None:
    world.resolved_incident("P1")
    with grpc.insecure_channel(f"127.0.0.1:{api.port}") as channel:
        stub = pb_grpc.PostmortemServiceStub(channel)  # type: ignore[no-untyped-call]

        def call(method: str, request: object, who: str | None) -> grpc.StatusCode:
            metadata = [("authorization", f"Bearer {api.tokens[who]}")] if who else []
            try:
                getattr(stub, method)(request, metadata=metadata, timeout=10)
            except grpc.RpcError as error:
                return error.code()
            return grpc.StatusCode.OK

        edit = pb.EditSectionRequest(incident="INC-1", section="summary", text="x")
        assert call("EditSection", edit, "audrey") == grpc.StatusCode.PERMISSION_DENIED
        assert call("EditSection", edit, None) == grpc.StatusCode.UNAUTHENTICATED
        get = pb.GetPostmortemRequest(incident="INC-1")
        assert call("GetPostmortem", get, "ingo") == grpc.StatusCode.PERMISSION_DENIED
        assert call("GetPostmortem", get, "audrey") == grpc.StatusCode.OK
        assert (
            call("GetMetrics", pb.GetMetricsRequest(), "ingo") == grpc.StatusCode.PERMISSION_DENIED
        )
        missing = pb.GetPostmortemRequest(incident="INC-99")
        assert call("GetPostmortem", missing, "audrey") == grpc.StatusCode.NOT_FOUND
        service = pb.DESCRIPTOR.services_by_name["PostmortemService"]
        for method in service.methods:
            request = getattr(pb, method.input_type.name)()
            code = call(method.name, request, "ingo")
            assert code == grpc.StatusCode.PERMISSION_DENIED, method.name
