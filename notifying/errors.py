"""Errors raised by the notifying package; each has a stable ``code``.

What the notify worker does with a failure depends on one question: could the
message have arrived anyway? ``SendFailed`` says no (``temporary``: try again
later; otherwise staff must act). ``DeliveryUncertain`` says maybe: the data
went out and the answer never came back.
"""

from __future__ import annotations


class NotifyError(Exception):
    code = "notify_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConfigInvalid(NotifyError):
    """A sender URL (KIOSK_SMTP_URL, KIOSK_SMS_WEBHOOK_URL) is malformed."""

    code = "notify_config_invalid"


class SendFailed(NotifyError):
    """Nothing was delivered. ``temporary``: the same message may be tried again later."""

    code = "send_failed"

    def __init__(self, message: str, *, code: str | None = None, temporary: bool = True) -> None:
        super().__init__(message, code=code)
        self.temporary = temporary


class DeliveryUncertain(NotifyError):
    """The message was handed over but no answer came: it may have been delivered."""

    code = "delivery_uncertain"


class Abandoned(NotifyError):
    """The caller withdrew at the point of no return (its claim on the message had lapsed)."""

    code = "send_abandoned"
