"""The printed pickup notice (《邮件接收通知单》) for the owner's mailbox, through the print queue.

A slip is not sent from here: it is queued as a print job, by a function the
caller gives (this package has no database). The caller runs ``send`` inside
the transaction that marks the message sent, so the print job and the mark
commit together or not at all: exactly once without any idempotency key. The
print queue then gets it onto paper.
"""

from __future__ import annotations

from collections.abc import Callable

from notifying.errors import Abandoned
from notifying.message import Outgoing, Receipt, always


class SlipSender:
    channel = "slip"
    # Its "delivery" commits with the mark (see the module's text), so it never is in doubt.
    resend_safe = True
    transactional = True

    def __init__(self, queue: Callable[[Outgoing], object]) -> None:
        self.queue = queue

    def send(self, message: Outgoing, go_ahead: Callable[[], bool] = always) -> Receipt:
        if not go_ahead():
            raise Abandoned("the message is no longer this worker's to send")
        return Receipt(reference=f"print-job:{self.queue(message)}")
