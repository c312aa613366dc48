"""The runbooks service's application layer: use cases over appkit's CommandRunner and
the read models. Every adapter calls this and nothing below it: the nameko worker
(incident events, the action timer), the gRPC API and tests. It knows the store port
and the injected clock; it never sends anything and never reads the wall clock.

Call sequence for the worker
----------------------------
1. IncidentDeclared -> ``request_automatic(incident_id, causation_id=<event id>,
   perform=True)``: requests the runs of the matching runbooks' automatic steps
   (guard rails decided in run.py), each with its first attempt in the same append,
   and returns those attempts as Jobs to perform now; then
   ``attach_matching(incident_id, causation_id=...)`` attaches every matching runbook
   (revision in force now). Both idempotent per event (``incident_declared`` does
   both).
2. ``jobs = app.claim()``: records ActionAttempted for every run that needs an
   attempt from this process now (queued, retry due, or an attempt lost by an earlier
   instance of this worker slot: resent if idempotent, otherwise outcome unknown) and
   returns them. The caller performs each job, then
3. ``app.record_result(job, result)``: ActionResultRecorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from appkit import (
    Aggregate,
    CommandResult,
    CommandRunner,
    EventIds,
    ModelSource,
    ProjectionRunner,
    uncorrelated,
)
from contracts.domain import InvalidCommandError, NotFoundError
from eventlog import EventStore
from eventlog.clock import Clock
from runbooks_service import actions, definition, templating
from runbooks_service import incident_runbooks as ir
from runbooks_service import run as rn
from runbooks_service import runbook as rb
from runbooks_service.common import EVENTS, ID_NAMESPACE, Severity, build
from runbooks_service.model import Incident, IncidentFacts, RunbooksModel

ACTOR = "runbooks-worker"
RUNBOOK_URL_ANNOTATIONS = ("runbook_url", "runbook")


@dataclass(frozen=True, slots=True)
class Match:
    definition: definition.Definition
    revision: int
    specificity: int


@dataclass(frozen=True, slots=True)
class Job:
    """One attempt this process recorded and must now perform."""

    stream: str
    run_id: uuid.UUID
    incident_id: uuid.UUID
    attempt: int
    kind: str
    request: dict[str, Any]
    idempotency_key: str
    repeat_of: int | None


@dataclass(frozen=True, slots=True)
class Result:
    ok: bool
    status_code: int | None
    duration_ms: int
    response_excerpt: str = ""
    error: str = ""
    timed_out: bool = False
    ambiguous: bool = False


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident: Incident
    record: ir.IncidentRunbooks
    definitions: dict[str, definition.Definition]
    """runbook id -> the revision the incident uses."""
    runs: list[rn.Run]
    refusals: list[dict[str, Any]]


class RunbooksApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        sender: str = "runbooks-0",
        outcome_timeout: timedelta = timedelta(seconds=120),
    ) -> None:
        self.store = store
        self.clock = clock
        self.sender = sender
        self.instance = uuid.uuid4().hex[:12]
        """This process; an attempt of this slot by another instance was lost."""
        self.outcome_timeout = outcome_timeout
        self.runbooks: Aggregate[rb.RunbookCommand, rb.Runbook] = Aggregate(
            rb.STREAM_CATEGORY, rb.INITIAL, rb.decide, rb.evolve, correlation=uncorrelated
        )
        self.incidents: Aggregate[ir.IncidentRunbooksCommand, ir.IncidentRunbooks] = Aggregate(
            ir.STREAM_CATEGORY, ir.INITIAL, ir.decide, ir.evolve
        )
        self.ledgers: Aggregate[rn.RunCommand, rn.Ledger] = Aggregate(
            rn.STREAM_CATEGORY, rn.INITIAL, rn.decide, rn.evolve, correlation=uncorrelated
        )
        deciders = (self.runbooks, self.incidents, self.ledgers)
        self.model = ProjectionRunner(store, lambda: RunbooksModel(deciders))
        self.facts = ProjectionRunner(store, IncidentFacts)
        self.source = ModelSource(self.model, read_back=False)
        self.runner = CommandRunner(store, EVENTS, EventIds(ID_NAMESPACE), source=self.source)

    # ================================================================ runbooks

    def publish(self, document: Any, *, by: str) -> CommandResult[rb.Runbook]:
        """Validate and store a runbook revision; nothing is appended when it is refused."""
        parsed = definition.parse(document)
        command = build(rb.PublishRunbook, at=self.clock(), definition=parsed, by=by)
        return self.runner.execute(self.runbooks, rb.stream_for(parsed.id), command, actor=by)

    def retire(self, runbook_id: str, reason: str, *, by: str) -> CommandResult[rb.Runbook]:
        command = build(rb.RetireRunbook, at=self.clock(), reason=reason, by=by)
        return self.runner.execute(
            self.runbooks, rb.stream_for(runbook_id), command, actor=by,
            not_found=f"runbook {runbook_id} does not exist",
        )  # fmt: skip

    def runbook(self, runbook_id: str) -> rb.Runbook:
        self.model.catch_up()
        state: rb.Runbook = self.model.projection.state(rb.stream_for(runbook_id))[0]
        if not state.exists:
            raise NotFoundError(f"runbook {runbook_id} does not exist")
        return state

    def list_runbooks(self) -> list[rb.Runbook]:
        self.model.catch_up()
        found: list[rb.Runbook] = self.model.projection.states(rb.STREAM_CATEGORY)
        return sorted((r for r in found if r.exists), key=lambda r: r.runbook_id or "")

    def match(self, services: Sequence[str], labels: Mapping[str, str]) -> list[Match]:
        """Runbooks (current revision, not retired) matching, most specific first."""
        matches = []
        for state in self.list_runbooks():
            current = state.current
            if state.retired or current is None:
                continue
            score = current.specificity(tuple(services), labels)
            if score is not None:
                matches.append(Match(current, state.revision, score))
        return sorted(matches, key=lambda m: (-m.specificity, m.definition.id))

    def refresh(self) -> None:
        """Catch both read models up now. Commands leave their own appends to the next
        catch-up (`ModelSource(read_back=False)`); the worker calls this once a
        declaration is handled, off any call's path, so the next declaration's catch-ups
        read only what others appended meanwhile (ADR 0029)."""
        self.facts.catch_up()
        self.model.catch_up()

    # ================================================================ incidents

    def resolve_reference(self, reference: str) -> uuid.UUID:
        text = reference.strip()
        self.facts.catch_up()
        if text.upper().startswith("INC-") and text[4:].isdigit():
            found = self.facts.projection.by_number.get(int(text[4:]))
            if found is None:
                raise NotFoundError(f"incident {text} does not exist")
            return found
        try:
            return uuid.UUID(text)
        except ValueError:
            raise InvalidCommandError("incident", "must be INC-<number> or a uuid") from None

    def incident(self, incident_id: uuid.UUID) -> Incident:
        self.facts.catch_up()
        found = self.facts.projection.incidents.get(incident_id)
        if found is None:
            raise NotFoundError(f"incident {incident_id} does not exist (yet)")
        return found

    def _labels(self, incident: Incident) -> tuple[dict[str, str], list[str]]:
        """The incident's labels (its alerts', plus severity) and its alerts' runbook
        links."""
        labels: dict[str, str] = {}
        links: list[str] = []
        for key in incident.source_alerts:
            alert = self.facts.projection.alerts.get(key)
            if alert is None:
                continue
            labels.update(alert.labels)
            for name in RUNBOOK_URL_ANNOTATIONS:
                url = alert.annotations.get(name, "")
                if url.startswith(("http://", "https://")) and url not in links:
                    links.append(url)
        labels["severity"] = incident.severity
        return labels, links

    def incident_declared(
        self, incident_id: uuid.UUID, *, causation_id: str, perform: bool = False
    ) -> list[Job]:
        """Request the matching runbooks' automatic steps, then attach the runbooks
        (`request_automatic`, then `attach_matching`); returns the jobs to perform."""
        jobs = self.request_automatic(incident_id, causation_id=causation_id, perform=perform)
        self.attach_matching(incident_id, causation_id=causation_id)
        return jobs

    def _matching(
        self, incident_id: uuid.UUID
    ) -> tuple[Incident, dict[str, str], list[str], list[Match]]:
        incident = self.incident(incident_id)
        labels, links = self._labels(incident)
        return incident, labels, links, self.match(incident.services, labels)

    def request_automatic(
        self, incident_id: uuid.UUID, *, causation_id: str, perform: bool = False
    ) -> list[Job]:
        """Request the runs of the matching runbooks' automatic steps.

        `perform`: the caller (the worker) performs the runs at once; each run's first
        attempt is recorded in the same append as its request (the one append before
        the call) and returned as a Job. Otherwise the runs wait for `claim`."""
        incident, _, _, matches = self._matching(incident_id)
        jobs: list[Job] = []
        # Matching has just caught the model up: the first command decides on it
        # without another read (a conflict still reloads; ADR 0029).
        with self.source.current():
            for m in matches:
                for step in m.definition.steps:
                    if step.automatic:
                        result = self._request(
                            incident, m.definition, m.revision, step, by=ACTOR,
                            automatic=True, key="auto", causation_id=causation_id,
                            perform=perform,
                        )  # fmt: skip
                        jobs.extend(self._jobs(result))
        return jobs

    def attach_matching(self, incident_id: uuid.UUID, *, causation_id: str) -> None:
        """Attach every matching runbook (the revision in force now) and the alerts'
        runbook links, once per declaration event. The worker does it after the calls
        are on their way; a crash in between is repaired by the redelivered event."""
        incident, labels, links, matches = self._matching(incident_id)
        if not matches and not links:
            return
        attached = tuple(
            ir.AttachedRunbook(
                runbook_id=m.definition.id, revision=m.revision, title=m.definition.title,
                specificity=m.specificity, steps=tuple(s.id for s in m.definition.steps),
            )
            for m in matches
        )  # fmt: skip
        command = build(
            ir.Attach, at=self.clock(), incident_id=incident_id, number=incident.number,
            severity=incident.severity, services=incident.services, labels=labels,
            runbooks=attached, external_links=tuple(links), by=ACTOR,
        )  # fmt: skip
        self.runner.execute(
            self.incidents, ir.stream_for(incident_id), command, actor=ACTOR,
            key=f"declared/{causation_id}", causation_id=causation_id,
        )  # fmt: skip

    def attach(self, reference: str, runbook_id: str, *, by: str) -> ir.IncidentRunbooks:
        """Attach a runbook by hand (its current revision)."""
        incident = self.incident(self.resolve_reference(reference))
        state = self.runbook(runbook_id)
        current = state.current
        assert current is not None
        labels, _ = self._labels(incident)
        runbook = ir.AttachedRunbook(
            runbook_id=runbook_id, revision=state.revision, title=current.title,
            specificity=current.specificity(incident.services, labels) or 0,
            steps=tuple(s.id for s in current.steps),
        )  # fmt: skip
        command = build(
            ir.Attach, at=self.clock(), incident_id=incident.incident_id,
            number=incident.number, severity=incident.severity, services=incident.services,
            labels=labels, runbooks=(runbook,), by=by,
        )  # fmt: skip
        return self.runner.execute(
            self.incidents, ir.stream_for(incident.incident_id), command, actor=by
        ).state

    def mark_step(
        self,
        reference: str,
        runbook_id: str,
        step_id: str,
        status: str,
        *,
        note: str = "",
        mitigation: str | None = None,
        temporary: bool = False,
        by: str,
        idempotency_key: str | None = None,
    ) -> ir.IncidentRunbooks:
        incident_id = self.resolve_reference(reference)
        command = build(
            ir.MarkStep, at=self.clock(), runbook_id=runbook_id, step_id=step_id,
            status=status, note=note, by=by,
            mitigation={"description": mitigation, "temporary": temporary} if mitigation else None,
        )  # fmt: skip
        return self.runner.execute(
            self.incidents, ir.stream_for(incident_id), command, actor=by,
            key=idempotency_key, not_found="no runbook is attached to this incident",
        ).state  # fmt: skip

    def view(self, reference: str) -> IncidentView:
        incident = self.incident(self.resolve_reference(reference))
        self.model.catch_up()
        model = self.model.projection
        record: ir.IncidentRunbooks = model.state(ir.stream_for(incident.incident_id))[0]
        definitions = {}
        for attached in record.runbooks:
            state: rb.Runbook = model.state(rb.stream_for(attached.runbook_id))[0]
            found = state.at(attached.revision)
            if found is not None:
                definitions[attached.runbook_id] = found
        return IncidentView(
            incident,
            record,
            definitions,
            sorted(model.runs_of(incident.incident_id), key=lambda r: r.requested_at),
            list(model.refusals_by_incident.get(incident.incident_id, [])),
        )

    # ================================================================ actions

    def start_action(
        self,
        reference: str,
        runbook_id: str,
        step_id: str,
        *,
        by: str,
        idempotency_key: str | None = None,
    ) -> CommandResult[rn.Ledger]:
        """A responder starts an automated step (the revision the incident uses)."""
        incident = self.incident(self.resolve_reference(reference))
        view = self.view(str(incident.incident_id))
        found = view.definitions.get(runbook_id)
        attached = view.record.attached(runbook_id)
        if found is None or attached is None:
            raise NotFoundError(f"runbook {runbook_id} is not attached to {incident.reference}")
        step = found.step(step_id)
        if step is None:
            raise InvalidCommandError("step", f"runbook {runbook_id} has no step {step_id!r}")
        if step.kind == definition.MANUAL:
            raise InvalidCommandError("step", f"{step_id} is a manual step; mark it instead")
        return self._request(
            incident, found, attached.revision, step, by=by, automatic=False,
            key=idempotency_key or uuid.uuid4().hex,
        )  # fmt: skip

    def _request(
        self,
        incident: Incident,
        found: definition.Definition,
        revision: int,
        step: definition.Step,
        *,
        by: str,
        automatic: bool,
        key: str,
        causation_id: str | None = None,
        perform: bool = False,
    ) -> CommandResult[rn.Ledger]:
        run_id = uuid.uuid5(ID_NAMESPACE, f"run/{incident.incident_id}/{found.id}/{step.id}/{key}")
        labels, _ = self._labels(incident)
        variables: dict[str, object] = {
            "incident": {
                "id": str(incident.incident_id), "reference": incident.reference,
                "number": incident.number, "title": incident.title,
                "severity": incident.severity, "services": list(incident.services),
                "labels": labels, "commander": incident.commander,
            },
            "runbook": {"id": found.id, "revision": revision, "title": found.title},
            "step": {"id": step.id, "title": step.title},
            "run_id": str(run_id),
        }  # fmt: skip
        field = f"steps.{found.steps.index(step)}"
        target = templating.render(step.target, variables, field=f"{field}.target").strip()
        variables["target"] = target
        kind = actions.KINDS[step.kind]
        request = kind.prepare(found.action_spec(step), variables, f"{field}.action")
        command = build(
            rn.RequestRun, at=self.clock(), run_id=run_id, incident_id=incident.incident_id,
            severity=Severity(incident.severity), runbook_id=found.id, revision=revision,
            step_id=step.id, kind=step.kind, target=target or "-", request=request,
            idempotent=step.idempotent, guards=step.guards, automatic=automatic, by=by,
            claim=self._claim_command(run_id) if perform else None,
        )  # fmt: skip
        return self.runner.execute(
            self.ledgers, rn.stream_for(found.id, step.id), command, actor=by,
            key=f"request/{run_id}", causation_id=causation_id,
            correlation_id=str(incident.incident_id),
        )  # fmt: skip

    def approve(self, reference: str, run_id: uuid.UUID, *, by: str) -> rn.Run:
        incident = self.incident(self.resolve_reference(reference))
        stream = self._run_stream(run_id)
        command = build(
            rn.ApproveRun, at=self.clock(), run_id=run_id, by=by, commander=incident.commander
        )
        result = self.runner.execute(
            self.ledgers, stream, command, actor=by, correlation_id=str(incident.incident_id)
        )
        return result.state.run(run_id)

    def _run_stream(self, run_id: uuid.UUID) -> str:
        self.model.catch_up()
        for runs in self.model.projection.runs_by_incident.values():
            for stream, found in runs:
                if found == run_id:
                    return stream
        raise NotFoundError(f"no action run {run_id}")

    def claim(self, run_ids: Sequence[uuid.UUID] | None = None) -> list[Job]:
        """Record an attempt for every run (or those named) that needs one from this
        process now, and return them to be performed."""
        self.model.catch_up()
        active = dict(self.model.projection.active)
        if run_ids is not None:
            active = {r: s for r, s in active.items() if r in set(run_ids)}
        jobs: list[Job] = []
        for run_id, stream in active.items():
            run = self.model.projection.run(stream, run_id)
            if run is None:
                continue
            result = self.runner.execute(
                self.ledgers, stream, self._claim_command(run_id),
                actor=f"{ACTOR}:{self.sender}", correlation_id=str(run.incident_id),
            )  # fmt: skip
            jobs.extend(self._jobs(result))
        return jobs

    def _claim_command(self, run_id: uuid.UUID) -> rn.Claim:
        return rn.Claim(
            at=self.clock(), run_id=run_id, sender=self.sender, instance=self.instance,
            timeout=self.outcome_timeout,
        )  # fmt: skip

    def _jobs(self, result: CommandResult[rn.Ledger]) -> list[Job]:
        """The attempts this process recorded in `result`, to perform now."""
        jobs = []
        for event in result.events:
            if isinstance(event, rn.ActionAttempted) and event.sender_instance == self.instance:
                run = result.state.runs[event.run_id]
                jobs.append(
                    Job(result.stream, run.run_id, run.incident_id, event.attempt, run.kind,
                        run.request, event.idempotency_key, event.repeat_of)
                )  # fmt: skip
        return jobs

    def record_result(self, job: Job, result: Result) -> CommandResult[rn.Ledger]:
        command = build(
            rn.RecordResult, at=self.clock(), run_id=job.run_id, attempt=job.attempt,
            ok=result.ok, status_code=result.status_code, duration_ms=result.duration_ms,
            response_excerpt=result.response_excerpt, error=result.error[:2000],
            timed_out=result.timed_out, ambiguous=result.ambiguous,
        )  # fmt: skip
        return self.runner.execute(
            self.ledgers, job.stream, command, actor=f"{ACTOR}:{self.sender}",
            key=f"result/{job.run_id}/{job.attempt}", correlation_id=str(job.incident_id),
        )  # fmt: skip
