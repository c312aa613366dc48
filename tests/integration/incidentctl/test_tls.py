"""incidentctl over TLS: --tls with --ca-cert against a real TLS server, and the
one-line errors for the ways TLS goes wrong."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from apikit.rpc import RunningServer, TlsFiles
from tests.integration.incident.conftest import Api
from tests.integration.incidentctl.conftest import ServerFactory, invoke


@pytest.fixture
def tls_server(extra_servers: ServerFactory, tmp_path: Path) -> tuple[RunningServer, Path]:
    """A TLS server whose self-signed certificate names localhost; returns it and the cert."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return extra_servers(tls=TlsFiles(cert, key)), cert


def test_tls_with_the_servers_ca_works(api: Api, tls_server: tuple[RunningServer, Path]) -> None:
    server, cert = tls_server
    declared = invoke(
        "--server", f"localhost:{server.port}", "--tls", "--ca-cert", str(cert),
        "--token", api.tokens["alice"],
        "declare", "over tls", "--severity", "P2", "--service", "web", "-q",
    )  # fmt: skip
    from_env = invoke(
        "show",
        "INC-1",
        "--json",
        env={
            "FIREWATCH_SERVER": f"localhost:{server.port}",
            "FIREWATCH_TLS": "1",
            "FIREWATCH_CA_CERT": str(cert),
            "FIREWATCH_TOKEN": api.tokens["audrey"],
        },
    )
    assert (declared.exit_code, declared.stdout) == (0, "INC-1\n"), declared.stderr
    assert from_env.exit_code == 0, from_env.stderr
    assert '"title": "over tls"' in from_env.stdout


@pytest.mark.parametrize(
    ("flags", "exit_code", "message"),
    [
        pytest.param((), 3, "cannot reach the incident API", id="plaintext-to-tls"),
        pytest.param(
            ("--tls", "--server", "nonexistent.invalid:1"), 3, "cannot resolve", id="dns"
        ),
        pytest.param(("--tls",), 3, "TLS handshake with the incident API", id="untrusted-cert"),
        pytest.param(
            ("--tls", "--ca-cert", "/nonexistent/ca.pem"), 2, "cannot read the CA certificate",
            id="missing-ca-file",
        ),
    ],
)  # fmt: skip
def test_tls_mistakes_are_one_line_errors(
    api: Api,
    tls_server: tuple[RunningServer, Path],
    flags: tuple[str, ...],
    exit_code: int,
    message: str,
) -> None:
    server, _ = tls_server
    result = invoke(
        "--server", f"localhost:{server.port}", "--token", api.tokens["alice"], "--retries", "1",
        *flags, "list",
    )  # fmt: skip
    assert result.exit_code == exit_code, result.stderr
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1
