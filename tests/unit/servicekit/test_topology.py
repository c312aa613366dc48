"""Names and declaration arguments: the one place relay, consumers and deploy agree on."""

from __future__ import annotations

import pytest

from servicekit.topology import QueueBinding, Topology, TopologyError, exponential_delays


def test_exchange_per_owning_service_and_unowned_categories_go_to_unrouted() -> None:
    topology = Topology("fw")
    assert topology.exchange_for_stream("incident-42") == "fw.incident"
    assert topology.exchange_for_stream("alert-x") == "fw.detection"
    assert topology.exchange_for_stream("page-1") == "fw.paging"
    assert topology.exchange_for_stream("mystery-1") == "fw.unrouted"
    assert topology.exchange_arguments() == {"alternate-exchange": "fw.unrouted"}
    assert "fw.postmortem" in topology.service_exchanges


def test_prefix_comes_from_the_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIREWATCH_EXCHANGE_PREFIX", "t-123")
    assert Topology().exchange_for_service("incident") == "t-123.incident"
    monkeypatch.delenv("FIREWATCH_EXCHANGE_PREFIX")
    assert Topology().exchange_for_service("incident") == "firewatch.incident"


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
