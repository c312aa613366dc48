"""Names and declaration arguments: the one place relay, consumers and deploy agree on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from eventlog.identity import PlatformIdentity
from servicekit.topology import QueueBinding, Topology, TopologyError, exponential_delays


def _platform(hex_id: str) -> PlatformIdentity:
    return PlatformIdentity(uuid.UUID(hex_id), datetime(2026, 11, 27, tzinfo=UTC), 1)


def test_exchange_per_owning_service_and_unowned_categories_have_none() -> None:
    topology = Topology("fw")
    assert topology.exchange_for_stream("incident-42") == "fw.incident"
    assert topology.exchange_for_stream("alert-x") == "fw.detection"
    assert topology.exchange_for_stream("page-1") == "fw.paging"
    assert topology.exchange_for_stream("mystery-1") is None
    assert topology.exchange_for_stream("platform-identity") is None
    # Owned by the incident service, but its numbering counter stays in the log.
    assert topology.owner_of_stream("incidentnumber-all") == "incident"
    assert topology.exchange_for_stream("incidentnumber-all") is None
    assert "fw.postmortem" in topology.service_exchanges
    assert (topology.rpc_exchange, topology.rpc_queue("incident")) == ("fw.rpc", "fw.rpc-incident")


def test_the_default_prefix_is_derived_from_the_platform_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FIREWATCH_EXCHANGE_PREFIX", raising=False)
    one = _platform("3f2a9c1b7d4e4a0b8c9d0e1f2a3b4c5d")
    other = _platform("0b8c9d0e1f2a4a0b8c9d0e1f2a3b4c5d")
    assert Topology(platform=one).exchange_for_service("incident") == (
        "firewatch-3f2a9c1b7d4e.incident"
    )
    assert Topology(platform=one).qualified(
        QueueBinding("incident.detection", "detection", ["#"])
    ).queue == ("firewatch-3f2a9c1b7d4e.incident.detection")
    assert Topology(platform=other).prefix != Topology(platform=one).prefix


def test_an_explicit_prefix_wins_over_the_derived_one(monkeypatch: pytest.MonkeyPatch) -> None:
    platform = _platform("3f2a9c1b7d4e4a0b8c9d0e1f2a3b4c5d")
    monkeypatch.setenv("FIREWATCH_EXCHANGE_PREFIX", "t-123")
    assert Topology(platform=platform).exchange_for_service("incident") == "t-123.incident"
    assert Topology("fw", platform=platform).prefix == "fw"
    monkeypatch.setenv("FIREWATCH_EXCHANGE_PREFIX", "")  # an empty variable is unset
    assert Topology(platform=platform).prefix == "firewatch-3f2a9c1b7d4e"


def test_without_a_prefix_or_a_platform_there_is_no_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A fixed default is what put two platforms into the same queues (issue 8).
    monkeypatch.delenv("FIREWATCH_EXCHANGE_PREFIX", raising=False)
    with pytest.raises(TopologyError, match=r"no exchange prefix.*FIREWATCH_EXCHANGE_PREFIX"):
        Topology()


def test_a_category_with_two_owners_is_refused() -> None:
    with pytest.raises(TopologyError, match="owned by both"):
        Topology("fw", {"a": {"x"}, "b": {"x"}})


def test_default_retry_schedule_is_five_attempts_with_exponential_backoff() -> None:
    binding = QueueBinding("comms.incidents", "incident", ["IncidentDeclared"])
    assert binding.event_types == ("IncidentDeclared",)
    assert binding.max_attempts == 5
    assert [binding.retry_delay_ms(n) for n in range(1, 6)] == [1000, 5000, 25000, 125000, None]
    assert exponential_delays(3, 0.05, 2) == (0.05, 0.1)


def test_queue_declarations_are_quorum_with_at_least_once_dead_lettering() -> None:
    binding = QueueBinding("comms.incidents", "incident", ["#"], retry_delays=(0.1, 0.1, 2))
    specs = {spec.name: dict(spec.arguments) for spec in Topology("fw").queue_specs(binding)}
    assert specs == {
        "comms.incidents.parking": {"x-queue-type": "quorum"},
        "comms.incidents": {
            "x-queue-type": "quorum",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "comms.incidents.parking",
            "x-delivery-limit": 20,
        },
        # Equal delays share one retry queue; each queue has one fixed TTL.
        "comms.incidents.retry.100ms": {
            "x-queue-type": "quorum",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-message-ttl": 100,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "comms.incidents",
        },
        "comms.incidents.retry.2000ms": {
            "x-queue-type": "quorum",
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
            "x-message-ttl": 2000,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": "comms.incidents",
        },
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service_queue_name": "bad name"}, "must be 1-200"),
        ({"event_types": "IncidentDeclared"}, "not one string"),
        ({"event_types": []}, "binds no event types"),
        ({"retry_delays": (1, 0)}, "> 0 seconds"),
    ],
)
def test_bad_bindings_are_refused(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "service_queue_name": "q",
        "source_service": "incident",
        "event_types": ["X"],
    }
    arguments.update(kwargs)
    with pytest.raises(TopologyError, match=message):
        QueueBinding(**arguments)  # type: ignore[arg-type]


def test_consumer_queues_live_under_the_platform_prefix() -> None:
    binding = QueueBinding("incident.detection", "detection", ["AlertGroupFiring"])
    qualified = Topology("fw").qualified(binding)
    assert qualified.queue == "fw.incident.detection"
    assert qualified.parking_queue == "fw.incident.detection.parking"
    assert Topology("fw").qualified(qualified) == qualified, "qualifying twice changes nothing"
    assert Topology("other").qualified(binding).queue != qualified.queue
