"""The communications application layer: every use case an adapter may call.

Every adapter calls this and nothing below it: the nameko worker (incident events, the
timer), the gRPC CommsService, the status-page HTTP process and the CLI (through gRPC).
It knows the store port and the injected clock; it never sends, sleeps or reads the
wall clock. Loads come from one in-memory model (`model.CommsModel`, appkit's
ModelSource), caught up from the log before each command and query.

Call sequence for the worker:
0. ``app.start_sender()`` once at start (this process instance now sends for its slot:
   the previous instance's unanswered attempts are resent, labelled, on the first tick);
1. incident events: ``track_incident`` / ``record_change`` (idempotent by the event id);
2. every second: ``sends = app.tick()`` fires reminders and overdue promises, queues the
   requested messages and records attempts; each returned ``Send`` is made once by the
   adapter, which then reports ``app.record_outcomes(dispatch_id, outcomes)``.

The use cases live where they belong, each over one kit command runner (appkit;
`runtime.py`: the runner, the model and the reads every part shares): an incident's
**rooms** (`rooms.py`: channels, changes, stakeholder updates and their promises), the
**status page** (`publishing.py`: components and status-page incidents) and its
**subscribers** (`subscriptions.py`), the **outbox** (`outbox.py`: requested messages
become dispatches) and the **scheduler** (`scheduler.py`: `tick`, timers, attempts and
their outcomes). `CommsApplication` wires them and lists them.
"""

from __future__ import annotations

from collections.abc import Mapping

from appkit import CommandResult
from comms_service import dispatch as dsp
from comms_service.cadence import CadencePolicy
from comms_service.model import CommsModel
from comms_service.outbox import NOTICE_BUCKETS, Outbox
from comms_service.publishing import Publishing
from comms_service.rooms import ChannelRouting, Preview, Rooms
from comms_service.runtime import Runtime
from comms_service.scheduler import MAINTENANCE_NOTICE, MAX_TICK_PASSES, Scheduler, Send
from comms_service.subscriptions import SubscriberLinks, Subscriptions
from eventlog import EventStore
from eventlog.clock import Clock

__all__ = [
    "MAINTENANCE_NOTICE",
    "MAX_TICK_PASSES",
    "NOTICE_BUCKETS",
    "ChannelRouting",
    "CommandResult",
    "CommsApplication",
    "Preview",
    "Send",
]


class CommsApplication:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        cadence: CadencePolicy | None = None,
        retry: dsp.RetryPolicy | None = None,
        routing: ChannelRouting | None = None,
        templates: Mapping[str, str] | None = None,
        secret: bytes = b"firewatch-comms-development-secret-change-me",
        page_url: str = "http://127.0.0.1:8090",
        sender: str = "comms",
        contacts: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.cadence = cadence or CadencePolicy()
        self.retry = retry or dsp.RetryPolicy()
        runtime = Runtime(store, clock, cadence=self.cadence, retry=self.retry, sender=sender)
        self.links = SubscriberLinks(secret, page_url.rstrip("/"))
        outbox = Outbox(runtime, self.links, contacts)
        scheduler = Scheduler(runtime, outbox)
        self._rooms = rooms = Rooms(
            runtime,
            scheduler,
            outbox,
            cadence=self.cadence,
            routing=routing or ChannelRouting(),
            templates=templates,
        )
        publishing = Publishing(runtime, rooms, outbox)
        subscriptions = Subscriptions(runtime, self.links, publishing, outbox)

        self.sender = runtime.sender
        self.instance = runtime.instance
        self.contacts = outbox.contacts
        self.templates = rooms.templates
        self.aggregates = runtime.aggregates
        self.projections = runtime.projections
        self.runner = runtime.runner
        self._runtime = runtime

        # ---- an incident's rooms: channels, changes, stakeholder updates, promises
        self.track_incident = rooms.track_incident
        self.record_change = rooms.record_change
        self.assign_comms_lead = rooms.assign_comms_lead
        self.find_incident = rooms.find_incident
        self.room = rooms.room
        self.tracked = rooms.tracked
        self.preview_update = rooms.preview_update
        self.post_update = rooms.post_update
        self.report = rooms.report
        # ---- the status page: components, status-page incidents and maintenances
        self.configure_page = publishing.configure_page
        self.add_group = publishing.add_group
        self.add_component = publishing.add_component
        self.set_component_status = publishing.set_component_status
        self.page = runtime.page
        self.draft_status_incident = publishing.draft_status_incident
        self.status_incident = publishing.status_incident
        self.post_status_update = publishing.post_status_update
        self.add_internal_note = publishing.add_internal_note
        self.publish = publishing.publish
        # ---- ... and its subscribers
        self.unsubscribe_signature = self.links.unsubscribe_signature
        self.unsubscribe_url = self.links.unsubscribe_url
        self.subscribe_email = subscriptions.subscribe_email
        self.add_webhook_subscriber = subscriptions.add_webhook_subscriber
        self.confirm_subscription = subscriptions.confirm_subscription
        self.unsubscribe = subscriptions.unsubscribe
        self.remove_subscriber = subscriptions.remove_subscriber
        self.subscribers = runtime.subscribers
        # ---- requested messages become dispatches
        self.queue_requested = outbox.queue_requested
        # ---- ... and time: the worker's sender slot, its ticker and what it reports
        self.start_sender = scheduler.start_sender
        self.tick = scheduler.tick
        self.mirror_public_updates = scheduler.mirror_public_updates
        self.record_outcomes = scheduler.record_outcomes
        self.open_status = scheduler.open_status
        self.dispatch = scheduler.dispatch
        self.dispatches_for = scheduler.dispatches_for

    @property
    def model(self) -> CommsModel:
        return self._runtime.model

    @property
    def routing(self) -> ChannelRouting:
        return self._rooms.routing

    @routing.setter
    def routing(self, value: ChannelRouting) -> None:
        # Where channels open may be reconfigured on a running application.
        self._rooms.routing = value

    @property
    def secret(self) -> bytes:
        return self.links.secret

    @property
    def page_url(self) -> str:
        return self.links.page_url
