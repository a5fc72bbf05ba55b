# Copyright: skipper.platform contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one exception family.

Only a module's ``main()`` turns these into ``fail_json``; everything below
raises. Messages name the object, the operation and the reason, and never
carry a credential or a Secret's value.
"""

from __future__ import annotations


class SkipperError(Exception):
    """Base class: every error the collection raises on purpose."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationError(SkipperError):
    """Bad input, found before anything was written."""


class AuthConfigError(SkipperError):
    """The connection settings cannot be used (missing file, bad context...)."""


class ConnectionFailure(SkipperError):
    """The API server could not be reached."""


class ApiError(SkipperError):
    """The API server answered with an error status."""

    def __init__(self, message: str, status: int, reason: str = "", causes: list | None = None) -> None:
        super().__init__(message, status=status, reason=reason)
        self.status = status
        self.reason = reason
        self.causes = causes or []


class RolloutError(SkipperError):
    """A rollout did not finish; ``details`` says which pods are stuck and why."""
