"""Sends queued labels to their printers: `kiosk print-worker`, or a process of `kiosk serve` (web/serving.py)."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask

import printing
from kiosk import printjobs
from kiosk.models import Item
from kiosk.values import Actor
from printing.errors import PrinterOffline, PrintingError

from .auth import desk
from .db import transaction
from .labels import label_for

log = logging.getLogger(__name__)


# What _send answers when the job's lease ran out before its label could start to go out.
_LEASE_LOST = object()


@dataclass
class Pass:
    printed: list[int] = field(default_factory=list)
    offline: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    in_doubt: list[int] = field(default_factory=list)


def run_once(app: Flask, now: datetime | None = None, limit: int = 20) -> Pass:
    """Claim the due jobs (one per printer), send each, record the outcome. Every step commits
    on its own, so a crash loses at most a lease, never a job; and a crash after a label started
    to go out leaves it in doubt for staff, never sent twice by itself."""
    now = now or datetime.now(UTC)
    worker = Actor(name="print-worker", role="system", device=app.config.get("DEVICE_NAME"))
    result = Pass()
    with transaction(app) as session:
        result.in_doubt = printjobs.settle_expired(session, worker, now=now)
        jobs = [(job.id, job.item_id, job.printer_url, job.reprint, job.part)
                for job in printjobs.claim_due(session, now=now, limit=limit)]
    for job_id, item_id, url, reprint, part in jobs:
        outcome = _send(app, job_id, item_id, url, reprint, part, now)
        if outcome is _LEASE_LOST:
            continue
        with transaction(app) as session:
            if outcome is None:
                printjobs.mark_printed(session, job_id, worker, now=now)
                result.printed.append(job_id)
            elif isinstance(outcome, PrinterOffline):
                printjobs.mark_offline(session, job_id, outcome.code, outcome.message, now=now)
                result.offline.append(job_id)
            else:
                printjobs.mark_failed(session, job_id, outcome.code, outcome.message)
                result.failed.append(job_id)
                log.error("print job %s failed: %s", job_id, outcome)
    return result



def _send(app: Flask, job_id: int, item_id: int, url: str, reprint: bool, part: str | None, now: datetime):
    """Print one job; None when printed, the error if it did not print, or _LEASE_LOST. No
    transaction is open while the printer works: on SQLite an open one would hold the write
    lock every request needs."""
    with transaction(app) as session:
        item = session.get(Item, item_id)
        try:
            label = label_for(item, desk(app), reprint=reprint, timezone=app.config["TIMEZONE"])
            # A printer's timeout bounds each step of sending; a few of them bound the whole.
            sending_time = timedelta(seconds=3 * printing.parse_printer_url(url).timeout)
        except PrintingError as error:
            return error
    with transaction(app) as session:
        # Committed before the first byte goes out: from here on a crash leaves the job in doubt.
        if not printjobs.mark_sending(session, job_id, now=now, sending_time=sending_time):
            return _LEASE_LOST
    try:
        printing.print_label(label, url, roles=(part,) if part else None)
    except PrintingError as error:
        if isinstance(error, PrinterOffline):
            log.warning("printer %s offline; job %s waits", url, job_id)
        return error
    return None


def run_forever(app: Flask, stop: threading.Event, poll_seconds: float = 1.0) -> None:
    while not stop.is_set():
        try:
            done = run_once(app)
        except Exception:  # a database hiccup must not end the worker
            log.exception("print worker pass failed")
            done = Pass()
        if not (done.printed or done.offline or done.failed or done.in_doubt):
            stop.wait(poll_seconds)
