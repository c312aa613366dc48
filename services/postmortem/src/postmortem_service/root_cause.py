"""The Postmortem decider's root-cause check: `restates_mitigation` tells a cause that
explains why the system failed from one that only restates what stopped the bleeding (a
rollback, a restart, or a recorded temporary mitigation).

Pure: a function of the texts it is given.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_MITIGATION_WORDS = frozenset(
    {
        "rollback",
        "rolled",
        "roll",
        "back",
        "revert",
        "reverted",
        "reverting",
        "restart",
        "restarted",
        "restarting",
        "reboot",
        "rebooted",
        "bounce",
        "bounced",
        "failover",
        "failed",
        "over",
        "redeploy",
        "redeployed",
        "scaled",
        "scale",
        "up",
        "out",
        "flushed",
        "cleared",
        "cache",
        "killed",
        "kill",
        "pod",
        "pods",
        "service",
        "server",
        "servers",
        "node",
        "nodes",
        "deploy",
        "deployment",
        "release",
        "previous",
        "version",
        "restored",
        "traffic",
        "shifted",
        "disabled",
        "flag",
    }
)
_MITIGATION_VERBS = frozenset(
    {"rollback", "rolled", "revert", "reverted", "restart", "restarted", "reboot", "rebooted",
     "bounce", "bounced", "failover", "redeploy", "redeployed", "killed", "flushed"}
)  # fmt: skip
_STOP = frozenset(
    {
        "the", "a", "an", "to", "of", "and", "was", "were", "is", "it", "we", "by", "on",
        "in", "for", "root", "cause", "because", "due", "that", "this", "had", "be", "been",
        "fixed", "fix", "resolved", "issue", "problem", "incident", "after", "then", "so",
    }
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def restates_mitigation(root_cause: str, mitigations: Sequence[str]) -> str | None:
    """Why `root_cause` is only a mitigation, or None when it explains something.

    A cause made only of mitigation vocabulary ("rolled back the deploy", "restarted the
    pods") or whose words are nearly all those of a recorded temporary mitigation says
    what stopped the bleeding, not why it bled."""
    words = _words(root_cause)
    if not words:
        return "says nothing once filler words are removed"
    if all(w in _MITIGATION_WORDS for w in words):
        return (
            "only describes a mitigation (a rollback or a restart is a mitigation, not a "
            "cause): say why the system failed"
        )
    if words[0] in _MITIGATION_VERBS and len(words) <= 6:
        return (
            f"starts with the mitigation {words[0]!r} and says little else (a rollback or a "
            "restart is a mitigation, not a cause): say why the system failed"
        )
    for mitigation in mitigations:
        known = set(_words(mitigation))
        if known and len(set(words) - known - _MITIGATION_WORDS) == 0:
            return f"restates the temporary mitigation {mitigation!r}: say why the system needed it"
    return None
