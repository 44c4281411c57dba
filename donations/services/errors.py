"""Domain errors. Their message is written for the person using the page."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the change; nothing was written.

    ``field`` names the form field the message belongs next to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class DuplicateEmail(DomainError):
    """Another account already uses this email address."""


class InvalidInput(DomainError):
    """A value is malformed or out of range."""


class NotAllowed(DomainError):
    """The change would break a rule, such as leaving no active admin."""
