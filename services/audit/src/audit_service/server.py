"""The audit API process: the gRPC server plus the periodic sealer (plain threads)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from apikit.auth import TokenRegistry
from apikit.rpc import TlsFiles, start_server
from audit_service.api import SERVICE_NAME, AuditServicer
from audit_service.app import AuditApplication
from audit_service.config import AuditSettings
from audit_service.keys import load_key
from eventlog import open_store
from eventlog.clock import system_clock
from firewatch.audit.v1 import audit_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)


def seal_periodically(
    app: AuditApplication, interval: float, wait: Callable[[float], bool]
) -> None:
    """Seal after every `interval` seconds that `wait` (an Event's wait: True means stop)
    lets pass; a failure is logged and retried at the next tick, never fatal."""
    while not wait(interval):
        try:
            app.seal()
        except Exception:
            log.exception("periodic seal failed")


def serve(settings: AuditSettings | None = None) -> None:
    settings = settings or AuditSettings()
    store = open_store(settings.store_url, writer="audit")
    key = load_key(settings.audit_key_file) if settings.audit_key_file else None
    app = AuditApplication(
        store,
        system_clock,
        key=key,
        seal_file=settings.audit_seal_file,
        notary_url=settings.audit_seal_webhook,
    )
    servicer = AuditServicer(app, TokenRegistry(settings.tokens_file))
    tls = (
        TlsFiles(settings.audit_api_tls_cert, settings.audit_api_tls_key)
        if settings.audit_api_tls_cert and settings.audit_api_tls_key
        else None
    )
    running = start_server(
        host=settings.audit_api_host,
        port=settings.audit_api_port,
        register=[
            lambda server: pb_grpc.add_AuditServiceServicer_to_server(  # type: ignore[no-untyped-call]
                servicer, server
            )
        ],
        service_names=[SERVICE_NAME],
        tls=tls,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    if key is not None and settings.audit_seal_interval_seconds > 0:
        threading.Thread(
            target=seal_periodically,
            args=(app, settings.audit_seal_interval_seconds, stopping.wait),
            name="audit-sealer",
            daemon=True,
        ).start()
    print(
        f"audit api listening on {settings.audit_api_host}:{running.port} "
        f"({'TLS' if tls else 'plaintext'}), log {settings.store_url}, "
        f"sealing {'on' if key else 'off (no FIREWATCH_AUDIT_KEY_FILE)'}",
        flush=True,
    )
    stopping.wait()
    running.stop()
    store.close()


def main() -> None:
    from servicekit.process import start as start_process

    start_process("audit-api")  # one log format, metrics on FIREWATCH_METRICS_PORT
    serve()


if __name__ == "__main__":
    main()
