"""An incident whose escalation reached nobody is flagged where responders look first:
`incidentctl list` (and its JSON) and the incident's timeline (issue 16, ADR 0011)."""

from __future__ import annotations

import json
import uuid

from eventlog import EventMetadata, StreamState
from paging_service import escalation as esc
from paging_service.registry import EVENTS
from tests.integration.incident.conftest import Api, StoreFactory

from .conftest import Cli


def exhaust_paging(open_log: StoreFactory, api: Api, incident_id: str) -> None:
    """What the paging worker appends when every level reached nobody."""
    paging = open_log("paging")
    event = esc.EscalationExhausted(
        round=0,
        because_page_id=uuid.uuid4(),
        reason="every contact method of oncall failed",
        fallback_page_id=uuid.uuid4(),
        exhausted_at=api.clock(),
    )
    paging.append(
        f"escalation-{incident_id}",
        [
            EVENTS.to_new_event(
                event, metadata=EventMetadata(correlation_id=incident_id, actor="paging-worker:p")
            )
        ],
        StreamState.NO_STREAM,
    )


def test_an_incident_nobody_could_be_paged_for_is_flagged_in_the_list_and_timeline(
    cli: Cli, api: Api, open_log: StoreFactory
) -> None:
    assert (
        cli("declare", "checkout down", "--severity", "P1", "--service", "checkout").exit_code == 0
    )
    assert cli("declare", "search slow", "--severity", "P3", "--service", "search").exit_code == 0
    listed = json.loads(cli("list", "--json").stdout)
    assert [i["paging_alert"] for i in listed] == [None, None]
    checkout = next(i for i in listed if i["reference"] == "INC-1")

    exhaust_paging(open_log, api, checkout["incident_id"])

    listed = {i["reference"]: i for i in json.loads(cli("list", "--json").stdout)}
    assert listed["INC-1"]["paging_alert"] == "every contact method of oncall failed"
    assert listed["INC-2"]["paging_alert"] is None
    table = cli("list")
    assert table.exit_code == 0
    [row] = [line for line in table.stdout.splitlines() if "INC-1" in line]
    assert "NOBODY PAGED" in row
    assert "NOBODY PAGED" not in next(line for line in table.stdout.splitlines() if "INC-2" in line)
    timeline = cli("timeline", "INC-1")
    assert "EscalationExhausted" in timeline.stdout
