"""Which platform this process belongs to: its log's identity and the topology under it.

This module owns the one way every broker-facing process (the relay, nameko workers,
the deploy step) finds its platform, so that they cannot disagree: open the log that
the store URL names, read its identity (creating it on a fresh or upgraded log, see
`eventlog.identity`), and take the exchange prefix from `FIREWATCH_EXCHANGE_PREFIX` or,
when that is unset, derive it from the identity (ADR 0012).

It never guesses: without a store URL it uses the same default every service uses
(`sqlite:///var/firewatch/eventlog.db`), so a worker and the API next to it read the
same log.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from eventlog.factory import DEFAULT_URL, open_store
from eventlog.identity import PlatformIdentity
from servicekit.topology import PREFIX_ENV, Topology

STORE_URL_CONFIG_KEY = "STORE_URL"
"""The nameko config key services already use for their log (services/*/config.yaml)."""
STORE_URL_ENV = "FIREWATCH_STORE_URL"

_identities: dict[str, PlatformIdentity] = {}
_lock = threading.Lock()


def store_url(config: Mapping[str, Any] | None = None) -> str:
    """The log this process uses: config STORE_URL, else $FIREWATCH_STORE_URL, else the
    services' default."""
    configured = (config or {}).get(STORE_URL_CONFIG_KEY)
    return str(configured or os.environ.get(STORE_URL_ENV) or DEFAULT_URL)


def identity_of(url: str) -> PlatformIdentity:
    """The identity of the log at `url` (created if it has none yet), read once per
    process: it never changes."""
    with _lock:
        found = _identities.get(url)
        if found is None:
            with open_store(url) as store:
                found = store.platform_identity()
            _identities[url] = found
        return found


def platform_topology(config: Mapping[str, Any] | None = None) -> tuple[PlatformIdentity, Topology]:
    """This process's platform and its topology, from a nameko config (or the
    environment alone when `config` is None). An explicit prefix in the config or the
    environment wins over the derived one."""
    identity = identity_of(store_url(config))
    prefix = (config or {}).get(PREFIX_ENV) or None
    return identity, Topology(prefix, platform=identity)
