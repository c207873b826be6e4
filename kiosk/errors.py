"""Domain errors. Each carries a stable ``code`` that the API returns verbatim.

The ``status`` is a hint for HTTP mapping; the domain itself knows nothing of HTTP,
but keeping the pairing next to the code means one table to read, not two.
"""


class KioskError(Exception):
    code = "kiosk_error"
    status = 400
    # Set when the operation wrote an audit record of this refusal before raising:
    # the caller commits that record (and nothing else was written) instead of
    # rolling back, so forged scans and refused releases leave a trace.
    recorded = False

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(KioskError):
    code = "invalid_input"
    status = 422

    def __init__(self, message: str, field: str | None = None, code: str | None = None):
        super().__init__(message, field=field)
        if code:
            self.code = code
        self.field = field


class NotFound(KioskError):
    code = "not_found"
    status = 404


class Conflict(KioskError):
    code = "conflict"
    status = 409


class Forbidden(KioskError):
    code = "forbidden"
    status = 403


class DepositRefused(KioskError):
    """The desk does not take this item (DOMAIN: hazardous goods, cash, valuables)."""

    status = 422

    def __init__(self, code: str, message: str, suggestion: str | None = None):
        super().__init__(message, suggestion=suggestion)
        self.code = code
        self.suggestion = suggestion


class AcknowledgementRequired(KioskError):
    code = "acknowledgement_required"
    status = 422


class TagMismatch(Conflict):
    code = "tag_mismatch"


class AlreadyReleased(Conflict):
    code = "already_released"


class StubRevoked(Forbidden):
    code = "stub_revoked"


class StubRequired(KioskError):
    code = "stub_required"
    status = 422


class StubMismatch(Conflict):
    code = "stub_mismatch"


class IdentityRequired(KioskError):
    code = "identity_required"
    status = 422


class UnknownCode(KioskError):
    code = "unknown_code"
    status = 404


class MalformedCode(KioskError):
    code = "malformed_code"
    status = 400


class CodeTooLong(MalformedCode):
    code = "code_too_long"


class AuditBroken(KioskError):
    code = "audit_broken"
    status = 500
