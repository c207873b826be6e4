"""The values a sender takes and gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message, fully worded. ``address``: an email address, a phone number, or (slips) a unit."""

    channel: str
    address: str
    subject: str
    text: str
    idempotency_key: str
    locale: str = "zh_Hans"


@dataclass(frozen=True)
class Receipt:
    """What the receiver answered: its message id, the print job, or nothing."""

    reference: str | None = None


def always() -> bool:
    return True


class Sender(Protocol):
    """Anything that delivers an ``Outgoing``.

    ``resend_safe``: the receiver drops a repeat of an idempotency key it has seen,
    so a message in doubt may be sent again. ``send`` calls ``go_ahead()`` exactly
    at its point of no return (after which the message may arrive even if the
    sender fails); when that answers False it stops, raising ``Abandoned``.
    """

    channel: str
    resend_safe: bool

    def send(self, message: Outgoing, go_ahead: Callable[[], bool] = always) -> Receipt: ...
