"""Test-wide settings. Nothing here starts servers: .ci/run and `make services` do."""

from __future__ import annotations

import os

PG_URL = os.environ.get("FIREWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BROKER_URL = os.environ.get("FIREWATCH_TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")

# Real SMTP and HTTP receivers (smtp_server, http_receiver) and headless Chromium
# (chromium, page) for any test that asks.
pytest_plugins = ["tests.receivers", "tests.browser"]
