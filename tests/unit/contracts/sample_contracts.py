"""A small sample registry used to test the contracts machinery itself.

`AccountOpened` was published at v1 (`name`) and v2 (`name` split into given/family
names); v3 added `currency` with a default. Its fixtures live in ./fixtures.
"""

from __future__ import annotations

from typing import Any

from contracts.events import DomainEvent, EventRegistry

REGISTRY = EventRegistry("sample")


@REGISTRY.register
class AccountOpened(DomainEvent):
    schema_version = 3
    given_name: str
    family_name: str
    currency: str


@REGISTRY.register
class MoneyDeposited(DomainEvent):
    amount_cents: int


@REGISTRY.upcaster("AccountOpened", 1)
def _split_name(payload: dict[str, Any]) -> dict[str, Any]:
    given, _, family = payload.pop("name").partition(" ")
    return {**payload, "given_name": given, "family_name": family}


@REGISTRY.upcaster("AccountOpened", 2)
def _default_currency(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "currency": "EUR"}
