"""Sends the outbox to owners: `kiosk notify-worker`, or a thread of `kiosk serve`.

Each pass, in transactions of their own: queue the reminders that fell due
(kiosk.notices), raise the alerts for keys out too long (kiosk.loans), claim
due messages, then word and send each with no transaction open while a sender
works. A sender calls back at its point of no return, and that is recorded
(committed) before it crosses; the outcome is marked afterwards. A worker
killed in between leaves a row that the next pass resends under its key (the
SMS gateway drops the repeat) or marks in doubt for staff (email). Printed
slips are queued as print jobs in the very transaction that marks them sent.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask

import notifying
from kiosk import ledger, loans, notices, outbox, printjobs
from kiosk.models import Item, Notification
from kiosk.values import Actor
from notifying import wording

from .auth import desk
from .db import transaction

log = logging.getLogger(__name__)


def senders_from_config(config) -> dict[str, notifying.Sender]:
    """The senders KIOSK_SMTP_URL and KIOSK_SMS_WEBHOOK_URL configure (raises ConfigInvalid)."""
    senders: dict[str, notifying.Sender] = {}
    if config.get("SMTP_URL"):
        senders["email"] = notifying.SmtpSender(config["SMTP_URL"])
    if config.get("SMS_WEBHOOK_URL"):
        senders["sms"] = notifying.WebhookSender(config["SMS_WEBHOOK_URL"])
    return senders


@dataclass(frozen=True)
class Claim:
    """A claimed message, as plain values: nothing here touches the database while sending."""

    id: int
    tries: int
    channel: str
    item_id: int | None
    message: notifying.Outgoing


@dataclass
class Pass:
    reminders: int = 0
    alerts: int = 0
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    in_doubt: list[int] = field(default_factory=list)
    abandoned: list[int] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.reminders or self.alerts or self.sent or self.retrying or self.failed or self.in_doubt)


def _worded(app: Flask, session, row: Notification) -> notifying.Outgoing:
    the_desk = desk(app)
    item = session.get(Item, row.item_id) if row.item_id is not None else None
    code = ledger.claim_code(the_desk, item) if item is not None else ""
    words = wording.render(row.template, row.locale, outbox.params_of(row), code=code,
                           site_name=the_desk.site_name, timezone=the_desk.timezone)
    return notifying.Outgoing(channel=row.channel, address=row.address, subject=words.subject, text=words.text,
                              idempotency_key=row.idempotency_key, locale=row.locale)


def run_once(app: Flask, now: datetime | None = None, limit: int = 20,
             senders: dict[str, notifying.Sender] | None = None) -> Pass:
    now = now or datetime.now(UTC)
    senders = app.extensions["kiosk.senders"] if senders is None else senders
    the_desk = desk(app)
    worker = Actor(name="notify-worker", role="system", device=app.config.get("DEVICE_NAME"))
    result = Pass()
    with transaction(app) as session:
        result.reminders = len(notices.queue_due(session, the_desk.zone, now=now))
    with transaction(app) as session:
        result.alerts = len(loans.raise_due_alerts(session, the_desk, worker, now=now))
    # Slips need no sender of their own: they go to the print queue.
    channels = [*senders, "slip"]
    resend_safe = [channel for channel, sender in senders.items() if sender.resend_safe] + ["slip"]
    with transaction(app) as session:
        claims = [Claim(row.id, row.tries, row.channel, row.item_id, _worded(app, session, row))
                  for row in outbox.claim_due(session, channels=channels, resend_safe=resend_safe, now=now,
                                              limit=limit)]
    for claim in claims:
        if claim.channel == "slip":
            _print_slip(app, claim, worker, now, result)
        else:
            _send(app, senders[claim.channel], claim, now, result)
    return result


def _send(app: Flask, sender: notifying.Sender, claim: Claim, now: datetime, result: Pass) -> None:
    def go_ahead() -> bool:
        with transaction(app) as session:
            return outbox.begin_send(session, claim.id, claim.tries, now=now)

    try:
        receipt = sender.send(claim.message, go_ahead)
    except notifying.Abandoned:
        result.abandoned.append(claim.id)
        return
    except (notifying.DeliveryUncertain, notifying.SendFailed) as error:
        # May it have arrived? Then only a resend-safe channel tries again; otherwise staff decide.
        uncertain = isinstance(error, notifying.DeliveryUncertain)
        retry = sender.resend_safe if uncertain else error.temporary
        with transaction(app) as session:
            if retry:
                outbox.mark_retry(session, claim.id, claim.tries, error.code, error.message, now=now)
                result.retrying.append(claim.id)
            elif uncertain:
                outbox.mark_in_doubt(session, claim.id, claim.tries, error.code, error.message)
                result.in_doubt.append(claim.id)
            else:
                outbox.mark_failed(session, claim.id, claim.tries, error.code, error.message)
                result.failed.append(claim.id)
        log.warning("notification %s: %s", claim.id, error)
        return
    with transaction(app) as session:
        outbox.mark_sent(session, claim.id, claim.tries, receipt.reference, now=now)
    result.sent.append(claim.id)


def _print_slip(app: Flask, claim: Claim, worker: Actor, now: datetime, result: Pass) -> None:
    """Queue the mailbox notice and mark the message in one transaction: both or neither."""
    with transaction(app) as session:
        item = ledger.get_item(session, claim.item_id, lock=True)

        def queue(_message: notifying.Outgoing) -> int:
            url = app.config["PRINTERS"]["default"]
            return printjobs.enqueue(session, worker, item, "default", url, part="notice", now=now).id

        if not outbox.begin_send(session, claim.id, claim.tries, now=now):
            result.abandoned.append(claim.id)
            return
        receipt = notifying.SlipSender(queue).send(claim.message)
        outbox.mark_sent(session, claim.id, claim.tries, receipt.reference, now=now)
    result.sent.append(claim.id)


def run_forever(app: Flask, stop: threading.Event, poll_seconds: float = 5.0) -> None:
    while not stop.is_set():
        try:
            done = run_once(app)
        except Exception:  # a database or network hiccup must not end the worker
            log.exception("notify worker pass failed")
            done = Pass()
        if not done.busy:
            stop.wait(poll_seconds)


def start_thread(app: Flask) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(app, stop), name="notify-worker", daemon=True).start()
    return stop
