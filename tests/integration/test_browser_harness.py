"""The headless-Chromium harness itself works (tests/browser.py): a page served over
real HTTP on loopback renders, and escaped markup stays text."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def test_chromium_renders_a_page_served_on_loopback_and_escaped_markup_stays_text(
    page: Any,
) -> None:
    body = b"<!doctype html><main><h1>status</h1><p>&lt;script&gt;x()&lt;/script&gt;</p></main>"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        assert page.inner_text("h1") == "status"
        assert page.inner_text("p") == "<script>x()</script>"
        assert page.locator("script").count() == 0
    finally:
        server.shutdown()
