"""The Grafana dashboard only queries metrics the postmortem service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "postmortem-dashboard.json"
WEB = Path(__file__).resolve().parents[3] / "services/postmortem/src/postmortem_service/web.py"


def test_every_dashboard_query_names_an_exported_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exported = set(re.findall(r'"(firewatch_[a-z_]+)"', WEB.read_text(encoding="utf-8")))
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"firewatch_[a-z_]+", target["expr"])
    }
    assert queried
    assert queried <= exported, queried - exported
