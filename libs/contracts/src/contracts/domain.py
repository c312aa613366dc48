"""The error vocabulary every pure domain uses.

Adapters map these to their protocol once (gRPC: INVALID_ARGUMENT, NOT_FOUND,
FAILED_PRECONDITION); a domain module raises them and never imports a framework.
"""

from __future__ import annotations

from pydantic import ValidationError


class DomainError(Exception):
    """A command that the domain refuses. The message is written for the person who
    sent the command."""


class InvalidCommandError(DomainError, ValueError):
    """A command's field is malformed. `field` names it, as the caller spelled it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")

    @classmethod
    def from_validation(cls, error: ValidationError) -> InvalidCommandError:
        """The first problem pydantic found, with its dotted field path."""
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "command"
        return cls(field, first["msg"])


class NotFoundError(DomainError, LookupError):
    """The command names something that does not exist."""


class PreconditionFailedError(DomainError):
    """The command is well-formed but the current state does not allow it."""


def required_text(value: str, field: str) -> str:
    """`value` without surrounding blanks; empty or blank is refused, naming `field`.

    For text a caller must give (a reason, an id): adapters and application layers
    check it before anything is decided, so nothing is appended for a blank one."""
    text = value.strip()
    if not text:
        raise InvalidCommandError(field, "is required")
    return text
