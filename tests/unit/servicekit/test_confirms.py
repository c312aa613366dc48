"""The relay's confirm bookkeeping never counts past an unconfirmed message."""

from __future__ import annotations

from types import SimpleNamespace

from amqp.exceptions import ChannelError, error_for_code

from servicekit.relay import _Confirms


def _window(size: int) -> _Confirms:
    confirms = _Confirms()
    confirms.begin()
    for index in range(size):
        confirms.published(index, f"id-{index}")
    return confirms


def test_multiple_ack_settles_everything_up_to_the_tag() -> None:
    confirms = _window(4)
    confirms.on_ack(3, multiple=True)
    assert not confirms.settled
    assert confirms.confirmed_prefix(4) == 3
    confirms.on_ack(4, multiple=False)
    assert confirms.settled
    assert confirms.confirmed_prefix(4) == 4
    assert confirms.acks == 4


def test_a_nack_stops_the_prefix_even_if_later_tags_are_acked() -> None:
    confirms = _window(4)
    confirms.on_ack(1, multiple=False)
    confirms.on_nack(2, multiple=False)
    confirms.on_ack(4, multiple=True)
    assert confirms.settled
    assert confirms.confirmed_prefix(4) == 1
    assert confirms.failed == {1: "nack"}


def _returned(code: int, text: str) -> Exception:
    # What py-amqp hands a basic_return callback.
    return error_for_code(code, text, (60, 50), ChannelError)  # type: ignore[no-any-return]


def test_a_message_nobody_binds_is_counted_as_unrouted_and_does_not_fail_the_window() -> None:
    confirms = _window(3)
    returned = SimpleNamespace(properties={"message_id": "id-1"})
    confirms.on_return(_returned(312, "NO_ROUTE"), "fw.incident", "X", returned)
    confirms.on_ack(3, multiple=True)
    assert confirms.confirmed_prefix(3) == 3
    assert confirms.failed == {}
    assert confirms.unrouted == [("fw.incident", "X")]


def test_any_other_returned_message_fails_even_though_it_is_acked_afterwards() -> None:
    confirms = _window(3)
    returned = SimpleNamespace(properties={"message_id": "id-1"})
    confirms.on_return(_returned(313, "NO_CONSUMERS"), "fw.incident", "X", returned)
    confirms.on_ack(3, multiple=True)
    assert confirms.confirmed_prefix(3) == 1
    assert confirms.failed == {1: "returned"}
    assert confirms.unrouted == []


def test_a_skipped_message_counts_as_confirmed() -> None:
    confirms = _Confirms()
    confirms.begin()
    confirms.published(0, "id-0")
    confirms.skipped(1)
    confirms.on_ack(1, multiple=False)
    assert confirms.settled
    assert confirms.confirmed_prefix(2) == 2


def test_tags_keep_counting_across_windows_on_one_channel() -> None:
    confirms = _window(2)
    confirms.on_ack(2, multiple=True)
    confirms.begin()
    confirms.published(0, "next")
    assert list(confirms.pending) == [3]
