"""The runbooks worker (nameko, eventlet): incident declarations in; automated actions
out.

Thin adapter over `RunbooksApplication`:

    IncidentDeclared -> request_automatic(perform=True): each automatic run is requested
                        with its first attempt in one append and performed at once
                        (no wait for the timer); then attach_matching, once
                        those calls are done or ATTACH_WAITS_FOR_CALLS_SECONDS passed,
                        and refresh() (the read models read this declaration's own
                        appends here, not on the next declaration's path)
    every second     -> tick(): claim every run due (queued, approved, retry due, or an
                        attempt lost by an earlier instance of this slot) and perform it

Each performed job: ActionAttempted is in the log before the call (app.claim), the
call, ActionResultRecorded after it. An HTTP call (a kind in
`executors.COOPERATIVE`) runs on its own greenthread: under `nameko run` http.client,
ssl and name resolution are eventlet's green ones, so it yields while it waits and its
timeout still bounds it; a kind that may block in C runs in eventlet's tpool (ADR 0029).

Fault points (servicekit.faults, armed only by tests): "runbooks.attempt-recorded"
(the intent is in the log, nothing sent) and "runbooks.sent" (sent, result not
recorded). After a restart in the same slot, an idempotent run is sent again with the
same idempotency key, a non-idempotent one becomes 'outcome unknown'.

The handler is `@reliable_handler` on the quorum queue `runbooks.incident`, declared
at deploy time (QUEUE_BINDINGS). Application calls are idempotent by derived ids.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import eventlet
import eventlet.semaphore
from eventlet import tpool
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from eventlog import RecordedEvent, open_store
from eventlog.clock import system_clock
from runbooks_service import executors
from runbooks_service.app import Job, Result, RunbooksApplication
from runbooks_service.settings import RunbooksSettings
from servicekit import faults
from servicekit.consumer import reliable_handler
from servicekit.topology import QueueBinding

log = logging.getLogger(__name__)

SERVICE_NAME = "runbooks"
SOURCE_SERVICE = "incident"
EVENT_TYPES = ("IncidentDeclared",)
INCIDENT_QUEUE = "runbooks.incident"
TICK_SECONDS = 1.0
ATTACH_WAITS_FOR_CALLS_SECONDS = 0.25
"""How long a declaration's handler lets its automatic calls run alone before it
appends the runbook attachment anyway (a slow target must not hold the handler)."""

QUEUE_BINDINGS: list[QueueBinding] = [QueueBinding(INCIDENT_QUEUE, SOURCE_SERVICE, EVENT_TYPES)]


class Automator:
    """One per worker process: the application, the lock and the calls in flight."""

    def __init__(
        self,
        app: RunbooksApplication,
        *,
        execute: Callable[[Job], Result] = executors.execute,
        run_blocking: Callable[..., Any] = tpool.execute,
    ) -> None:
        self.app = app
        self.execute = execute
        self.run_blocking = run_blocking
        self.lock = eventlet.semaphore.Semaphore(1)
        self.calls = eventlet.GreenPool(50)

    def handle(self, event: RecordedEvent) -> None:
        incident_id = uuid.UUID(event.stream.partition("-")[2])
        cause = str(event.id)
        # The relay hears of the attempt's commit once the calls are done (or the bound
        # below passed), not at the commit: woken at once, it and the broker would take
        # the CPU the call needs to leave (ADR 0029). The attempt is committed either way.
        with self.app.store.wakeups_deferred():
            with self.lock:
                jobs = self.app.request_automatic(incident_id, causation_id=cause, perform=True)
            calls = [self.calls.spawn(self._perform, job) for job in jobs]
            # The attachment is appended once the calls are done (or after a short bound
            # for a slow target): appended meanwhile, its fold and commit would hold the
            # hub before the call has sent its request. It is still appended before this
            # handler returns, i.e. before the event is acked.
            with eventlet.Timeout(ATTACH_WAITS_FOR_CALLS_SECONDS, False):
                for call in calls:
                    call.wait()
        with self.lock:
            self.app.attach_matching(incident_id, causation_id=cause)
            # This declaration's own appends are read into the model now, not on the
            # next declaration's path to its call.
            self.app.refresh()

    def tick(self) -> int:
        with self.lock:
            jobs = self.app.claim()
        self._spawn(jobs)
        return len(jobs)

    def _spawn(self, jobs: list[Job]) -> None:
        for job in jobs:
            self.calls.spawn_n(self._perform, job)

    def _perform(self, job: Job) -> None:
        try:
            faults.point("runbooks.attempt-recorded")
            if job.kind in executors.COOPERATIVE:
                # No thread hand-off: the request leaves as soon as this greenthread
                # runs, and a slow target holds only this greenthread (ADR 0029).
                result = self.execute(job)
            else:
                result = self.run_blocking(self.execute, job)
            faults.point("runbooks.sent")
            with self.lock:
                self.app.record_result(job, result)
        except Exception:
            # Nothing is lost: the attempt without a result is settled at its deadline
            # (resent if idempotent, otherwise outcome unknown).
            log.exception("runbooks: run %s attempt %s failed", job.run_id, job.attempt)

    def drain(self) -> None:
        self.calls.waitall()


class AutomatorProvider(DependencyProvider):  # type: ignore[misc]
    def setup(self) -> None:
        settings = RunbooksSettings()
        self.store = open_store(settings.store_url, writer=SERVICE_NAME)
        app = RunbooksApplication(
            self.store,
            system_clock,
            sender=settings.runbooks_sender,
            outcome_timeout=timedelta(seconds=settings.runbooks_outcome_timeout_seconds),
        )
        log.info("runbooks: acting as %s (instance %s)", app.sender, app.instance)
        self.automator = Automator(app)

    def stop(self) -> None:
        self.automator.drain()
        self.store.close()

    def kill(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx: Any) -> Automator:
        return self.automator


class RunbooksWorker:
    name = SERVICE_NAME

    automator: Automator = AutomatorProvider()

    @reliable_handler(source_service=SOURCE_SERVICE, event_types=EVENT_TYPES, queue=INCIDENT_QUEUE)
    def on_incident_event(self, event: RecordedEvent) -> None:
        """An incident was declared: attach its runbooks, run its automatic steps."""
        self.automator.handle(event)

    @timer(interval=TICK_SECONDS)  # type: ignore[untyped-decorator]
    def tick(self) -> None:
        """Every run due (retries, approvals, lost attempts) is claimed and performed."""
        self.automator.tick()
