"""Hypothesis against the real HTTP endpoints: any body gets a documented answer (never
a 5xx), and a refused body appends nothing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.integration.detection.conftest import Server, sample

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=15,
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _pd_bodies(key: str) -> st.SearchStrategy[Any]:
    base = sample("pagerduty-events-v2-trigger.json") | {"routing_key": key}
    payload = base["payload"]
    return st.one_of(
        JSON,
        st.dictionaries(st.sampled_from(sorted(base)), JSON, max_size=3).map(lambda c: base | c),
        st.dictionaries(st.sampled_from(sorted(payload)), JSON, max_size=3).map(
            lambda c: base | {"payload": payload | c}
        ),
    )


@FUZZ
@given(data=st.data())
def test_enqueue_answers_every_body(server: Server, data: st.DataObject) -> None:
    body = data.draw(_pd_bodies(server.pd_key))
    head = server.store.head_position()
    reply = server.post("/v2/enqueue", raw=json.dumps(body).encode())
    assert reply.status in (202, 400, 429), reply.body
    if reply.status == 400:
        assert reply.body["status"] == "invalid event"
        assert reply.body["errors"]
        assert server.store.head_position() == head
    server.clock.advance(10)  # keep the token bucket from dominating the run


@FUZZ
@given(body=st.one_of(JSON, st.binary(max_size=64).map(lambda b: {"raw": b.hex()})))
def test_alertmanager_answers_every_body(server: Server, body: Any) -> None:
    base = sample("alertmanager-webhook-v4.json")
    if isinstance(body, dict) and body:
        body = base | body
    head = server.store.head_position()
    reply = server.post("/v1/alertmanager", body, token=server.am_key)
    assert reply.status in (200, 400, 429), reply.body
    if reply.status == 400:
        assert reply.body["errors"]
        assert server.store.head_position() == head
    server.clock.advance(10)


@FUZZ
@given(raw=st.binary(max_size=200))
# The parser's "Expecting ',' delimiter" once read as "limit" and was answered 413.
@example(raw=b"[0")
def test_arbitrary_bytes_are_400_not_500(server: Server, raw: bytes) -> None:
    for path, token in (("/v2/enqueue", None), ("/v1/samples", server.api_token)):
        reply = server.post(path, raw=raw, token=token)
        assert reply.status in (202, 400), (path, reply.body)
