"""`make run` as a test fixture: one whole local platform with a private home and ports.

Owns starting and stopping `make run` (deploy/local/run.py) for e2e tests, and nothing
else. Each platform gets its own `var/firewatch` (so its own log, and so its own platform
identity) and free ports, and it uses the *default* RabbitMQ names (no
FIREWATCH_EXCHANGE_PREFIX): exactly what a developer's `make run` does, so a test
platform can run next to one, or next to another test platform, on the same vhost
(issue 8). On exit it stops every process with Ctrl-C, as a person would, then deletes
the platform's RabbitMQ queues and exchanges, so test runs leave nothing on the broker.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.request
from pathlib import Path
from types import TracebackType

from kombu import Connection

from eventlog import EventFilter, PlatformIdentity, RecordedEvent, open_store
from servicekit.topology import PREFIX_ENV, Topology
from tests.broker import every_worker_binding
from tests.conftest import BROKER_URL
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0


class LocalPlatform:
    """`make run` in `workdir` (which looks like a checkout: `.venv`, `var/firewatch`)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.home = workdir / "var" / "firewatch"
        workdir.mkdir(parents=True, exist_ok=True)
        if not (workdir / ".venv").exists():
            (workdir / ".venv").symlink_to(ROOT / ".venv")
        api, alert, oncall, postmortem = free_port(), free_port(), free_port(), free_port()
        comms = free_port()
        audit = free_port()
        runbooks = free_port()
        self.env = {
            **os.environ,
            "FIREWATCH_HOME": str(self.home),
            "FIREWATCH_INCIDENT_API_PORT": str(api),
            "FIREWATCH_DETECTION_HTTP_PORT": str(free_port()),
            "FIREWATCH_SMTP_PORT": str(free_port()),
            "FIREWATCH_DETECTION_API_PORT": str(alert),
            "FIREWATCH_ALERT_SERVER": f"127.0.0.1:{alert}",
            "FIREWATCH_PAGING_HTTP_PORT": str(free_port()),
            "FIREWATCH_PAGING_API_PORT": str(oncall),
            "FIREWATCH_ONCALL_SERVER": f"127.0.0.1:{oncall}",
            "FIREWATCH_SERVER": f"127.0.0.1:{api}",
            "FIREWATCH_POSTMORTEM_API_PORT": str(postmortem),
            "FIREWATCH_POSTMORTEM_SERVER": f"127.0.0.1:{postmortem}",
            "FIREWATCH_POSTMORTEM_HTTP_PORT": str(free_port()),
            "FIREWATCH_COMMS_API_PORT": str(comms),
            "FIREWATCH_COMMS_SERVER": f"127.0.0.1:{comms}",
            "FIREWATCH_STATUSPAGE_PORT": str(free_port()),
            "FIREWATCH_AUDIT_API_PORT": str(audit),
            "FIREWATCH_AUDIT_SERVER": f"127.0.0.1:{audit}",
            "FIREWATCH_RUNBOOKS_API_PORT": str(runbooks),
            "FIREWATCH_RUNBOOKS_SERVER": f"127.0.0.1:{runbooks}",
            "FIREWATCH_DEMO_AUTOMATION_PORT": str(free_port()),
            # Every process's metrics port: a free one each (metrics_targets()).
            "FIREWATCH_METRICS_BASE_PORT": "0",
            "FIREWATCH_LOG_FORMAT": "console",
        }
        # The defaults a developer's `make run` has: the log in the home, and RabbitMQ
        # names derived from that log's platform identity.
        for inherited in (
            "FIREWATCH_STORE_URL",
            "FIREWATCH_CHECKPOINT_URL",
            PREFIX_ENV,
            "FIREWATCH_METRICS_PORT",
        ):
            self.env.pop(inherited, None)
        self.output: list[str] = []
        self._lock = threading.Condition()
        self._process: subprocess.Popen[str] | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalPlatform:
        self._process = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(ROOT), "run"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        ready = threading.Event()
        threading.Thread(target=self._pump, args=(ready,), daemon=True).start()
        if not ready.wait(START_TIMEOUT) or self._process.poll() is not None:
            self.__exit__(None, None, None)
            raise AssertionError("make run never became ready:\n" + self.text())
        return self

    def _pump(self, ready: threading.Event) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        for line in self._process.stdout:
            with self._lock:
                self.output.append(line)
                self._lock.notify_all()
            if line.strip() == "ready":
                ready.set()
        ready.set()  # exited: let __enter__ see it

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, 2)  # Ctrl-C, as a person would
        process.wait(timeout=90)
        if (self.home / "eventlog.db").exists():
            with Connection(BROKER_URL) as connection:
                self.topology().delete(connection, every_worker_binding())
        assert "run: stopped" in self.text(), self.text()

    # ------------------------------------------------------------------ looking inside

    def text(self) -> str:
        with self._lock:
            return "".join(self.output)

    def wait_for_output(self, fragment: str, timeout: float = 30) -> str:
        """The first output line containing `fragment`, waiting for the processes to
        print it (a log line may follow the effect it reports by a moment)."""
        with self._lock:
            found = self._lock.wait_for(
                lambda: any(fragment in line for line in self.output), timeout
            )
            assert found, f"no output line with {fragment!r} after {timeout}s:\n{self.text()}"
            return next(line for line in self.output if fragment in line)

    @property
    def pid(self) -> int:
        """The `make run` process: every process of the platform descends from it."""
        assert self._process is not None
        return self._process.pid

    def metrics_targets(self) -> dict[str, str]:
        """Each process's metrics address (host:port), from the Prometheus file_sd
        targets `make run` writes."""
        targets = json.loads((self.home / "metrics-targets.json").read_text(encoding="utf-8"))
        return {t["labels"]["process"]: t["targets"][0] for t in targets}

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.home / 'eventlog.db'}"

    def identity(self) -> PlatformIdentity:
        with open_store(self.store_url) as store:
            return store.platform_identity()

    def topology(self) -> Topology:
        return Topology(platform=self.identity())

    def events(self, *types: str) -> list[RecordedEvent]:
        with open_store(self.store_url) as store:
            return list(store.read_all(filter=EventFilter.of(event_types=list(types))))

    def wait_for(
        self, event_type: str, count: int = 1, timeout: float = 120
    ) -> list[RecordedEvent]:
        """The first `count` events of a type, waiting on the log (never on the clock)."""
        with open_store(self.store_url) as store:
            subscription = store.subscribe(filter=EventFilter.of(event_types=[event_type]))
            found: list[RecordedEvent] = []
            try:
                while len(found) < count:
                    event = subscription.next_event(timeout=timeout)
                    assert event is not None, (
                        f"no {event_type} in {self.home} after {timeout}s:\n{self.text()}"
                    )
                    found.append(event)
            finally:
                subscription.close()
        return found

    def send_alert(self, summary: str) -> None:
        """What a monitoring tool does: a PagerDuty Events v2 trigger over HTTP."""
        keys = json.loads((self.home / "integration-keys.json").read_text())
        body = {
            "routing_key": keys["pagerduty"],
            "event_action": "trigger",
            "payload": {"summary": summary, "source": "checkout-1", "severity": "critical"},
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.env['FIREWATCH_DETECTION_HTTP_PORT']}/v2/enqueue",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 202

    def mails(self) -> list[str]:
        folder = self.home / "mail" / "new"
        return (
            sorted(p.read_text(errors="replace") for p in folder.glob("*"))
            if folder.exists()
            else []
        )
