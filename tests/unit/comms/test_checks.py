"""Message checks offered with a preview: advice about an update, never a refusal."""

from __future__ import annotations

import pytest

from comms_service.app import CommsApplication
from comms_service.checks import check_update
from tests.unit.comms.conftest import declare


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ("We expect a fix by 15:00. ETA 20 minutes.", "identified", "time estimate"),
        ("Full outage of checkout.", "identified", '"outage"'),
        ("db-7.prod.internal ran out of connections.", "identified", "internal host name"),
        ("Checkout works again.", "resolved", "data was lost"),
    ],
)
def test_each_check_flags_what_it_is_for(body: str, status: str, expected: str) -> None:
    warnings = check_update(body, audience="public", status=status)
    assert any(expected in w for w in warnings), warnings


def test_a_careful_update_has_no_warnings() -> None:
    assert (
        check_update(
            "Checkout works again; no data was lost.",
            audience="public",
            status="resolved",
            component_statuses=["operational"],
        )
        == []
    )
    assert (
        check_update(
            "Major outage of the API.",
            audience="public",
            status="identified",
            component_statuses=["major_outage"],
        )
        == []
    )
    assert (
        check_update("db-7.prod.internal is failing over", audience="internal", status="identified")
        == []
    )


def test_the_preview_carries_the_warnings(app: CommsApplication) -> None:
    declare(app)
    preview = app.preview_update(
        "INC-1", audience="public", message="Fixed by 15:00", status="investigating"
    )
    assert any("time estimate" in w for w in preview.warnings)
