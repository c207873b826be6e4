"""Domain errors. Each carries a stable ``code`` and the parameters a sentence needs.

The domain writes no sentences: the web layer turns ``code`` and ``params`` into
words in the reader's language (web/messages.py). ``status`` is a hint for HTTP
mapping; keeping it next to the code means one table to read, not two.
"""
from __future__ import annotations

from typing import Any


class KioskError(Exception):
    code = "kiosk_error"
    status = 400

    def __init__(self, *, code: str | None = None, **params: Any):
        if code:
            self.code = code
        self.params = {key: value for key, value in params.items() if value is not None}
        # A refusal that must leave a trace (a forged scan, a refused release) carries
        # its audit record here; the transaction boundary rolls the failed work back and
        # then writes this record in a transaction of its own (kiosk.refusals.write).
        self.record = None
        super().__init__(self.code)

    @property
    def field(self) -> str | None:
        return self.params.get("field")


class InvalidInput(KioskError):
    code = "invalid_input"
    status = 422


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
    """The desk does not take this item (DOMAIN: hazardous goods, cash, valuables).

    ``code`` is refused_hazardous or refused_valuables; the web layer adds the reason
    and what to suggest to the customer (a bank safe box for valuables)."""

    status = 422


class AcknowledgementRequired(KioskError):
    code = "acknowledgement_required"
    status = 422


class TagMismatch(Conflict):
    code = "tag_mismatch"


class AlreadyReleased(Conflict):
    code = "already_released"


class NotHeld(Conflict):
    """The item is in the ledger but not on the shelf: a key lent out, a letter returned to the post."""

    code = "item_not_held"


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


class ConsentRequired(KioskError):
    """DOMAIN: a handed-over owner's spare key is lent, or a courier parcel taken in,
    only with the owner's consent, recorded."""

    code = "owner_consent_required"
    status = 422


class LoanTooLong(KioskError):
    """A key lent for more than ``limit`` hours (``hours``) needs a supervisor's approval."""

    code = "loan_too_long"
    status = 422


class LoanOvernight(KioskError):
    """DOMAIN "不过夜": a key lent today comes back today, unless a supervisor approves."""

    code = "loan_overnight"
    status = 422


class NotAResident(KioskError):
    """DOMAIN: parcels for someone not living here are refused (the courier takes them back)."""

    code = "not_a_resident"
    status = 422
