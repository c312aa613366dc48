"""A real detection HTTP server on a free port over a real SQLite log (FakeClock)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from apikit.auth import Role, TokenRegistry, issue_token
from detection_service.app import DetectionApplication
from detection_service.http import DetectionHttp, serve
from detection_service.routing import parse_config
from eventlog import FakeClock, Ownership
from eventlog.sqlite import SQLiteEventStore

FORMATS = Path(__file__).resolve().parents[3] / "services" / "detection" / "fixtures" / "formats"


@dataclass
class Reply:
    status: int
    body: Any


@dataclass
class Server:
    base: str
    app: DetectionApplication
    store: SQLiteEventStore
    clock: FakeClock
    am_key: str
    pd_key: str
    api_token: str

    def post(
        self, path: str, body: Any = None, *, raw: bytes | None = None, token: str | None = None
    ) -> Reply:
        data = raw if raw is not None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        return _send(request)

    def get(self, path: str) -> Reply:
        return _send(urllib.request.Request(self.base + path))


def _send(request: urllib.request.Request) -> Reply:
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, _decode(response.read()))
    except urllib.error.HTTPError as error:
        return Reply(error.code, _decode(error.read()))


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def sample(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FORMATS / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    clock = FakeClock(datetime(2026, 11, 27, 2, 1, tzinfo=UTC))
    store = SQLiteEventStore(
        tmp_path / "log.db", writer="detection", ownership=Ownership.platform(), clock=clock
    )
    config = parse_config("rate_limit: {events_per_second: 1, burst: 5}\ngroup_by: [service]\n")
    app = DetectionApplication(store, clock, config)
    am_key = app.create_integration("prometheus", "alertmanager", created_by="admin").key
    pd_key = app.create_integration("pd-tool", "pagerduty", created_by="admin").key
    tokens_file = tmp_path / "tokens.json"
    api_token = issue_token(tokens_file, "pusher", Role.INTEGRATION)
    http = DetectionHttp(app, TokenRegistry(tokens_file))
    wsgi = serve(http, "127.0.0.1", 0)
    thread = threading.Thread(target=wsgi.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(
            f"http://127.0.0.1:{wsgi.server_port}", app, store, clock, am_key, pd_key, api_token
        )
    finally:
        wsgi.shutdown()
        thread.join(timeout=10)
        store.close()
