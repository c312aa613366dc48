"""The blameless-language check: blameful phrasing in a postmortem's cause and
narrative sections, each with a suggested systemic rewording.

The patterns follow published blameless-postmortem guidance (sources in
docs/postmortems.md): the Google SRE book ("Postmortem Culture"), Etsy's "Blameless
PostMortems and a Just Culture", PagerDuty's postmortem guide and Atlassian's incident
handbook. They warn about: naming who caused it, "human/operator error" as a cause,
counterfactuals ("should have", "could have", "if only"), judgemental verbs and
adjectives ("careless", "failed to", "didn't bother", "mismanaged", "negligent").

Warnings never silently block: publishing with an open warning needs an override with a
reason, which the published document shows. Pure: the directory's names arrive as an
argument.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Warning:
    section: str
    code: str
    phrase: str
    suggestion: str

    @property
    def fingerprint(self) -> str:
        """What an override names: the same phrase in the same section stays overridden."""
        return f"{self.section}:{self.code}:{self.phrase.lower()}"


_WHY = "Ask why the system allowed it: "
_PATTERNS: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "human-error",
        re.compile(r"\b(human|operator|user|engineer|pilot)\s+error\b", re.I),
        _WHY + "name the missing guard-rail, check or confusing interface instead of "
        "'human error' (e.g. 'the deploy tool accepted a config that failed validation').",
    ),
    (
        "counterfactual",
        re.compile(r"\b(should|could|would|ought to)(\s+not|n't)?\s+have\b", re.I),
        "Describe what happened and what the people involved knew at the time; turn the "
        "counterfactual into an action item that makes the right step the easy one.",
    ),
    (
        "counterfactual",
        re.compile(r"\bif only\b|\bhad (he|she|they|we|[A-Z][a-z]+) (just|only)\b", re.I),
        "Replace the hindsight with the facts available then, and a systemic fix.",
    ),
    (
        "failed-to",
        re.compile(r"\b(failed|forgot|neglected|omitted)\s+to\b", re.I),
        _WHY + "e.g. 'the runbook had no step for X' rather than 'X failed to do Y'.",
    ),
    (
        "judgemental",
        re.compile(
            r"\b(careless(ly|ness)?|negligen(t|ce|tly)|sloppy|lazy|incompeten(t|ce)|"
            r"reckless(ly)?|mismanag(ed|ement)|stupid|dumb|irresponsible|mistake by)\b",
            re.I,
        ),
        "Drop the judgement; describe the action, the context and the pressures on it.",
    ),
    (
        "didnt-bother",
        re.compile(r"\b(didn't|did not|never) bother(ed)?\b", re.I),
        _WHY + "what made the step easy to skip (no reminder, no check, time pressure)?",
    ),
    (
        "blame-verb",
        re.compile(r"\b(caused by|fault of|blame[sd]?|responsible for (the|this))\b", re.I),
        "Attribute the cause to conditions and mechanisms, not to a person or team.",
    ),
    (
        "insufficient",
        re.compile(r"\bthere was (insufficient|not enough|inadequate)\b", re.I),
        "Say what was there and what it could not show; 'insufficient' is hindsight.",
    ),
)


def check(sections: Mapping[str, str], people: Iterable[str] = ()) -> list[Warning]:
    """Every warning in the sections, in section order then text order.

    `people` are names and ids from the user directory: any of them in a cause or
    narrative section is flagged (a person named as a cause), case-insensitively,
    as a whole word."""
    names = sorted({p.strip() for p in people if len(p.strip()) >= 3}, key=len, reverse=True)
    name_pattern = (
        re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", re.I) if names else None
    )
    warnings: list[Warning] = []
    seen: set[str] = set()
    for section, text in sections.items():
        found: list[tuple[int, Warning]] = []
        for code, pattern, suggestion in _PATTERNS:
            for match in pattern.finditer(text):
                found.append((match.start(), Warning(section, code, match.group(0), suggestion)))
        if name_pattern is not None:
            for match in name_pattern.finditer(text):
                found.append(
                    (
                        match.start(),
                        Warning(
                            section,
                            "person-named",
                            match.group(0),
                            "Name the role and the system, not the person: e.g. 'the on-call "
                            "engineer, following the runbook, ...'. Why did the system allow "
                            "this?",
                        ),
                    )
                )
        for _, warning in sorted(found, key=lambda item: item[0]):
            if warning.fingerprint not in seen:
                seen.add(warning.fingerprint)
                warnings.append(warning)
    return warnings
