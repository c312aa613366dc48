"""Fixtures for real end-to-end tests against Prometheus and Alertmanager.

Owns: locating the binaries (a missing binary FAILS the test with the install command —
CI installs them, so a skip would hide a broken pipeline), a recording HTTP receiver that
stands in for the platform, and an ObservabilityStack wired to that receiver. Tests that
wire the stack to the real platform build their own ObservabilityStack with its URLs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.observability import (
    Binaries,
    MissingBinariesError,
    ObservabilityStack,
    RecordingReceiver,
    find_binaries,
)

WEBHOOK_PATH = "/v1/alertmanager"
ENQUEUE_PATH = "/v2/enqueue"
WEBHOOK_TOKEN = "e2e-webhook-token"  # a test credential; the receiver checks it arrives
ROUTING_KEY = "firewatche2eroutingkey0000000001"  # PagerDuty keys are 32 characters


@pytest.fixture(scope="session")
def observability_binaries() -> Binaries:
    try:
        return find_binaries()
    except MissingBinariesError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)  # outside `except`: no chained traceback noise


@pytest.fixture
def recording_receiver() -> Iterator[RecordingReceiver]:
    with RecordingReceiver() as receiver:
        yield receiver


@pytest.fixture
def observability_stack(
    observability_binaries: Binaries, recording_receiver: RecordingReceiver
) -> Iterator[ObservabilityStack]:
    """App → Prometheus → Alertmanager → the recording receiver, healthy and ready."""
    base = recording_receiver.base_url
    with ObservabilityStack(
        webhook_url=base + WEBHOOK_PATH,
        pagerduty_url=base + ENQUEUE_PATH,
        routing_key=ROUTING_KEY,
        webhook_token=WEBHOOK_TOKEN,
    ) as stack:
        yield stack
