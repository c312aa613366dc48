"""Silences: muting matching alerts for a while, and ending that early.

Owns the silence use cases; what a silence mutes is the suppression policy's
(`policies.py`), and when one ends by itself is the ticker's (`timers.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from contracts.domain import InvalidCommandError, NotFoundError
from detection_service import silence
from detection_service.aggregates import SILENCE
from detection_service.core import Core, checked_id
from detection_service.labels import Matcher
from detection_service.policies import Policies


class Silences:
    def __init__(self, core: Core, policies: Policies) -> None:
        self.core = core
        self.policies = policies

    def create_silence(
        self,
        matchers: Sequence[str | Matcher],
        *,
        ends_at: datetime,
        created_by: str,
        comment: str,
        starts_at: datetime | None = None,
        silence_id: str | None = None,
    ) -> silence.Silence:
        """`silence_id` lets a caller derive the id from an idempotency key, so a retried
        creation is refused as existing instead of muting twice."""
        at = self.core.clock()
        parsed: list[Matcher] = []
        for index, item in enumerate(matchers):
            try:
                parsed.append(item if isinstance(item, Matcher) else Matcher.parse(item))
            except ValueError as exc:
                raise InvalidCommandError(f"matchers[{index}]", str(exc)) from None
        silence_id = silence_id or str(uuid.uuid4())
        command = silence.CreateSilence(
            at=at,
            silence_id=silence_id,
            matchers=tuple(parsed),
            starts_at=starts_at or at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
        )
        stream = silence.stream_for(silence_id)
        with self.core.lock:
            self.core.run(SILENCE, stream, command, cause="create", actor=created_by)
            state, _ = self.core.model.state(stream)
        return state  # type: ignore[no-any-return]

    def expire_silence(self, silence_id: str, *, expired_by: str) -> list[str]:
        """Expire a silence now; alerts it muted that still fire start paging."""
        with self.core.lock:
            stream = silence.stream_for(checked_id(silence_id, "silence_id"))
            if self.core.caught_up().state(stream)[1] is None:
                raise NotFoundError(f"silence {silence_id} does not exist")
            at = self.core.clock()
            events = list(
                self.core.run(
                    SILENCE,
                    stream,
                    silence.ExpireSilence(at, expired_by),
                    cause="expire",
                    actor=expired_by,
                ).events
            )
            events += self.policies.review_suppressions(at)
            return [e.event_type() for e in events]
