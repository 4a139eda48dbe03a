"""Errors a user can act on. Each carries a Chinese message shown as-is on pages and in the API."""


class PeixunError(Exception):
    """A business rule refused the action; `message` is plain Chinese for the user."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class InvalidIdNumber(PeixunError):
    code = "invalid_id_number"


class CalendarMissing(PeixunError):
    code = "calendar_missing"


class PermissionDeniedError(PeixunError):
    code = "permission_denied"


class TransitionError(PeixunError):
    code = "transition_not_allowed"
