"""Every HTTP listener speaks https when given a certificate and key (ADR 0023): the
paging ack-link server, the comms status page and the postmortem pages, each started as
its real process with *_TLS_CERT/*_TLS_KEY pointing at a server certificate signed by a
CA made in the test; a client trusting only that CA gets its /healthz over https. The
detection ingest's own https test (with PagerDuty's official client) is in
tests/integration/detection/test_http_server.py."""

from __future__ import annotations

import http.client
import os
import re
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.tlsfiles import make_ca

STARTUP_SECONDS = 60.0


LISTENERS = {
    # module: (port, cert and key settings' prefix, the line it prints once bound)
    "paging_service.http": ("FIREWATCH_PAGING_HTTP", "listening on https://"),
    "comms_service.web": ("FIREWATCH_STATUSPAGE", "serving .* on https://"),
    "postmortem_service.web": ("FIREWATCH_POSTMORTEM_HTTP", "postmortem pages on https://"),
}


@pytest.mark.parametrize("module", sorted(LISTENERS))
def test_the_listener_serves_https_when_given_a_certificate(tmp_path: Path, module: str) -> None:
    prefix, banner = LISTENERS[module]
    ca = make_ca(tmp_path / "tls")
    port = free_port()
    env = {
        **os.environ,
        "FIREWATCH_STORE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        f"{prefix}_PORT": str(port),
        f"{prefix}_TLS_CERT": str(ca.server.certificate),
        f"{prefix}_TLS_KEY": str(ca.server.private_key),
        "FIREWATCH_PAGING_ACK_SECRET": "s" * 32,
        "FIREWATCH_COMMS_SECRET": "c" * 32,
        "FIREWATCH_METRICS_PORT": "0",
    }
    env.pop("FIREWATCH_STATUSPAGE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    ready = threading.Event()
    bound: list[bool] = []

    def watch() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            if re.search(banner, line):
                bound.append(True)
                ready.set()
        ready.set()  # exited: say so at once rather than after the timeout

    threading.Thread(target=watch, daemon=True).start()
    try:
        ready.wait(STARTUP_SECONDS)
        assert bound, "".join(seen)
        trusting = ssl.create_default_context(cafile=str(ca.ca_certificate))
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/healthz", timeout=30, context=trusting
        ) as response:
            assert response.status == 200
        # Plain HTTP to the TLS port gets no HTTP answer.
        with pytest.raises((ConnectionError, http.client.HTTPException, urllib.error.URLError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30).read()
    finally:
        process.terminate()
        process.wait(timeout=30)
