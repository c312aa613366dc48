"""A stand-in automation endpoint for `make run` and the quick start: it accepts any
action call on loopback, counts it, prints one line and answers 202 with JSON.

Owns nothing of the platform: it is where a local runbook's HTTP action can point
instead of a real Rundeck/AWX/Argo. Calls that repeat an idempotency key are counted
once as applied, as a deduplicating receiver would. Never deploy it.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.keys: set[str] = set()


def handler(counter: Counter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length) if length else b""
            key = self.headers.get("Idempotency-Key", "")
            with counter.lock:
                counter.calls += 1
                fresh = key not in counter.keys
                counter.keys.add(key)
                answer = {"accepted": True, "calls": counter.calls, "applied": fresh}
            print(
                f"demo automation: {self.command} {self.path} key={key or '-'} "
                f"{'applied' if fresh else 'duplicate, ignored'} {body[:200]!r}",
                flush=True,
            )
            payload = json.dumps(answer).encode()
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PUT = do_PATCH = do_DELETE = do_GET = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: one line per call is printed above."""

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler(Counter()))
    print(f"demo automation listening on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
