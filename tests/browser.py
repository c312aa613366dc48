"""Headless Chromium for web tests: Debian's chromium driven by Playwright.

Owns the one way tests open a real browser. Playwright cannot download its own browser
build on our machines, so it launches /usr/bin/chromium (installed by
deploy/local/install-browser.sh, which `make test` and .ci/run call) with the flags that
keep it off the closed network. A missing browser fails the test with the install
command rather than skipping it: a skipped browser test hides a broken page.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test session (launching costs about a second)."""
    if shutil.which("chromium") is None:
        pytest.fail(
            "chromium is not installed: run deploy/local/install-browser.sh "
            "(apt-get install chromium)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context and page per test (no shared cookies or cache)."""
    context = chromium.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()
