"""Domain errors carry the machine-readable code and HTTP status the edge answers with."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After (a 429 that knows when to try again)

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    status = 410
    code = "gone"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class InsufficientBalance(Conflict):
    code = "insufficient_balance"

    def __init__(self, available: int, requested: int) -> None:
        super().__init__(f"{requested} bonuses requested, {available} available")
        self.available = available
        self.requested = requested


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class MalformedInput(DomainError):
    """Input that cannot be read at all (not JSON, nested too deep, a number no one can hold): 400."""

    status = 400
    code = "malformed_json"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class UpstreamUnavailable(DomainError):
    """A partner network did not answer, or failed: nothing was changed here, and the call can be repeated."""

    status = 502
    code = "network_unavailable"
