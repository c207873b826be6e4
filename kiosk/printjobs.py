"""The durable print queue: labels wait here until a printer has taken them.

Jobs are rows written in the caller's transaction. A worker claims due jobs
(row locks with SKIP LOCKED, so several workers never take the same job; one job
per printer at a time, so a crash holds up one label, not a batch), marks the
moment a label starts to go out, sends it, and marks it printed exactly once; a
printer that is offline puts its jobs back with a growing delay. Nothing here
talks to a printer.

Every label carries a claim code (the stub, or the pickup notice), so a label
must never go out twice by accident: a worker that died after its label started
to go out leaves the job ``in_doubt``, and only staff decide — it printed
(``confirm``), or print it again with the old stub revoked (``reprint_in_doubt``).
A worker that died before leaves nothing on paper: its job is simply sent again.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from . import audit
from .db import adopt
from .direct import Direct
from .errors import Conflict, InvalidInput, NotFound
from .ledger import check_held
from .models import Item, PrintJob
from .values import Actor

# How long a claimed job is the worker's before another may settle it; sending extends it by the
# printer's own time limits (mark_sending). Short, because a printer waits while a job of it is claimed.
LEASE = timedelta(seconds=15)
MAX_BACKOFF = timedelta(minutes=5)
# After this many failed attempts a queued job shows as "stuck" to staff, while it keeps retrying.
STUCK_AFTER = 3
STATES = ("queued", "sending", "printed", "failed", "in_doubt", "cancelled")
OPEN_STATES = ("queued", "sending", "failed", "in_doubt")
# Namespace of the PostgreSQL advisory locks that let one worker at a time claim for a printer.
PRINTER_LOCKS = 0x6B707274


_INSERT_JOB = Direct(insert(PrintJob.__table__).returning(PrintJob.__table__.c.id))


def enqueue(session: Session, actor: Actor, item: Item, printer: str, printer_url: str, *,
            reprint: bool = False, part: str | None = None, reason: str | None = None,
            now: datetime | None = None) -> PrintJob:
    """Queue ``item``'s label (or one ``part`` of it, e.g. a pickup ``notice`` for the mailbox);
    a reprint records why (``reason``) when staff gave one."""
    now = now or datetime.now(UTC)
    if reprint:
        # The item's row first (kiosk.ledger's lock order): the job's foreign key takes a
        # share lock on it, which must not come before this row lock.
        session.refresh(item, with_for_update=True)
        check_held(item)
        audit.append(session, "reprint", actor, item_id=item.id, now=now,
                     details={"ticket_no": item.ticket_no, "printer": printer,
                              "generation": item.claim_generation, **({"reason": reason} if reason else {})})
    session.flush()   # the item's row before the job's (its foreign key)
    values = {"item_id": item.id, "printer": printer, "printer_url": printer_url, "reprint": reprint, "part": part,
              "status": "queued", "attempts": 0, "next_attempt_at": now, "requested_by": actor.name,
              "created_at": now}
    return adopt(session, PrintJob, {**values, **_INSERT_JOB.one(session, values)})


def settle_expired(session: Session, worker: Actor, now: datetime | None = None) -> list[int]:
    """Jobs whose worker died: send again what had not started to go out; put in doubt what had.

    Returns the ids put in doubt; each is an audit event, since a claim stub may be on paper."""
    now = now or datetime.now(UTC)
    expired = session.scalars(select(PrintJob).where(PrintJob.status == "sending", PrintJob.lease_until < now)
                              .order_by(PrintJob.id).with_for_update(skip_locked=True)
                              .execution_options(populate_existing=True)).all()
    in_doubt = []
    for job in expired:
        job.lease_until = None
        if job.send_started_at is None:
            job.status = "queued"
            continue
        job.status = "in_doubt"
        in_doubt.append(job.id)
        audit.append(session, "print_in_doubt", worker, item_id=job.item_id, now=now, details={
            "job_id": job.id, "printer": job.printer, "reprint": job.reprint,
            "send_started_at": job.send_started_at.isoformat()})
    session.flush()
    return in_doubt


def _take_printer(session: Session, printer_url: str) -> bool:
    """Claim for this printer in this transaction alone (SQLite's write lock does that already)."""
    if session.bind.dialect.name != "postgresql":
        return True
    return bool(session.scalar(select(func.pg_try_advisory_xact_lock(PRINTER_LOCKS, func.hashtext(printer_url)))))


def claim_due(session: Session, now: datetime | None = None, limit: int = 10) -> list[PrintJob]:
    """Take due jobs for sending, at most one per printer and none for a printer another worker
    is sending to; the caller commits before sending."""
    now = now or datetime.now(UTC)
    candidates = session.scalars(
        select(PrintJob).where(PrintJob.status == "queued", PrintJob.next_attempt_at <= now)
        .order_by(PrintJob.id).limit(limit * 20).with_for_update(skip_locked=True)
    ).all()
    claimed: list[PrintJob] = []
    printers: set[str] = set()
    for job in candidates:
        if len(claimed) >= limit or job.printer_url in printers:
            continue
        printers.add(job.printer_url)
        busy = exists().where(PrintJob.printer_url == job.printer_url, PrintJob.status == "sending")
        if not _take_printer(session, job.printer_url) or session.scalar(select(busy)):
            continue
        job.status, job.lease_until, job.attempts = "sending", now + LEASE, job.attempts + 1
        job.send_started_at = None
        claimed.append(job)
    session.flush()
    return claimed


def mark_sending(session: Session, job_id: int, now: datetime | None = None,
                 sending_time: timedelta = timedelta(0)) -> bool:
    """Record, before the first byte goes out, that this label may be on paper from now on, and
    hold the job for as long as sending may take; False if the job is no longer ours (the lease
    ran out), and then it must not be sent."""
    now = now or datetime.now(UTC)
    return session.execute(
        update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "sending", PrintJob.lease_until >= now)
        .values(send_started_at=now, lease_until=now + LEASE + sending_time)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def mark_printed(session: Session, job_id: int, worker: Actor, now: datetime | None = None) -> bool:
    """Record that the printer took the job; False if it was no longer ours to mark."""
    now = now or datetime.now(UTC)
    done = session.execute(
        update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "sending")
        .values(status="printed", printed_at=now, lease_until=None, last_error=None, last_error_code=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        return False
    _record_print(session, job_id, worker, now)
    return True


def _record_print(session: Session, job_id: int, actor: Actor, now: datetime, **extra) -> PrintJob:
    job = session.get(PrintJob, job_id, populate_existing=True)
    item = session.get(Item, job.item_id)
    audit.append(session, "print", actor, item_id=job.item_id, now=now, details={
        "ticket_no": item.ticket_no, "job_id": job.id, "printer": job.printer, "reprint": job.reprint,
        "attempts": job.attempts, "generation": item.claim_generation,
        **({"part": job.part} if job.part else {}), **extra,
    })
    return job


def backoff(attempts: int) -> timedelta:
    """How long a job (or message) waits after its n-th failed attempt: doubling, capped."""
    return min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts, 10)))


def mark_offline(session: Session, job_id: int, code: str, message: str, now: datetime | None = None) -> datetime:
    """Put a job back after its printer did not answer; other queued jobs for that printer wait too,
    so one offline printer does not cost a connect timeout per label."""
    now = now or datetime.now(UTC)
    job = session.get(PrintJob, job_id, populate_existing=True)
    retry_at = now + backoff(job.attempts)
    session.execute(
        update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "sending")
        .values(status="queued", next_attempt_at=retry_at, lease_until=None, send_started_at=None,
                last_error_code=code, last_error=message[:1000])
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(PrintJob).where(PrintJob.printer_url == job.printer_url, PrintJob.status == "queued",
                               PrintJob.next_attempt_at < retry_at)
        .values(next_attempt_at=retry_at)
        .execution_options(synchronize_session=False)
    )
    return retry_at


def mark_failed(session: Session, job_id: int, code: str, message: str) -> None:
    """A job that retrying cannot fix (bad printer URL, missing driver): staff must act."""
    session.execute(
        update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "sending")
        .values(status="failed", lease_until=None, send_started_at=None, last_error_code=code,
                last_error=message[:1000])
        .execution_options(synchronize_session=False)
    )


def retry(session: Session, job_id: int, now: datetime | None = None) -> PrintJob:
    now = now or datetime.now(UTC)
    job = session.get(PrintJob, job_id, with_for_update=True)
    if job is None:
        raise NotFound(id=job_id)
    if job.status not in ("failed", "queued"):
        raise Conflict(code="print_job_not_retryable", id=job_id, status=job.status)
    job.status, job.next_attempt_at = "queued", now
    return job


def needing_attention(session: Session, limit: int = 100) -> list[PrintJob]:
    """What a handover passes on: labels that failed, keep failing (stuck) or wait for staff to
    say whether they came out (in doubt), not yet printed."""
    query = select(PrintJob).where(or_(
        PrintJob.status.in_(("failed", "in_doubt")),
        and_(PrintJob.status.in_(("queued", "sending")), PrintJob.attempts >= STUCK_AFTER),
    ))
    return list(session.scalars(query.order_by(PrintJob.id).limit(limit)))


def _in_doubt(session: Session, job_id: int) -> PrintJob:
    job = session.get(PrintJob, job_id, with_for_update=True, populate_existing=True)
    if job is None:
        raise NotFound(id=job_id)
    if job.status != "in_doubt":
        raise Conflict(code="print_job_not_in_doubt", id=job_id, status=job.status)
    return job


def confirm(session: Session, actor: Actor, job_id: int, now: datetime | None = None) -> PrintJob:
    """Staff saw the label come out: the job in doubt was printed."""
    now = now or datetime.now(UTC)
    job = _in_doubt(session, job_id)
    job.status, job.printed_at = "printed", now
    session.flush()
    return _record_print(session, job.id, actor, now, confirmed_by=actor.name)


def reprint_in_doubt(session: Session, actor: Actor, job_id: int, printer: str, printer_url: str, reason: str,
                     now: datetime | None = None) -> PrintJob:
    """Staff cannot tell whether the label came out: revoke the stub it carried (a new
    generation, so a copy on paper no longer releases anything) and print it again, marked
    REPRINT. Returns the new job."""
    now = now or datetime.now(UTC)
    found = session.get(PrintJob, job_id)
    if found is None:
        raise NotFound(id=job_id)
    # The item's row first (kiosk.ledger's lock order), then the job's.
    item = session.get(Item, found.item_id, with_for_update=True, populate_existing=True)
    job = _in_doubt(session, job_id)
    check_held(item)
    item.claim_generation += 1
    item.claim_state = "active"
    audit.append(session, "reissue", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "generation": item.claim_generation, "print_in_doubt": job.id})
    job.status = "cancelled"
    return enqueue(session, actor, item, printer, printer_url, reprint=True,
                   reason=f"print job {job.id} in doubt: {reason}", now=now)


def list_jobs(session: Session, *, state: str = "open", limit: int = 100) -> list[PrintJob]:
    """``open``: everything not yet printed (what staff must watch); or one status."""
    query = select(PrintJob)
    if state == "open":
        query = query.where(PrintJob.status.in_(OPEN_STATES))
    elif state in STATES:
        query = query.where(PrintJob.status == state)
    else:
        raise InvalidInput(code="invalid_query", field="state", choices=("open",) + STATES)
    return list(session.scalars(query.order_by(PrintJob.id.desc()).limit(limit)))


def queue_state(session: Session, now: datetime | None = None) -> dict:
    """What a health check reports: jobs waiting, stuck, failed and in doubt, and how old the oldest wait is."""
    now = now or datetime.now(UTC)
    counts = dict(session.execute(
        select(PrintJob.status, func.count()).where(PrintJob.status.in_(OPEN_STATES))
        .group_by(PrintJob.status)).all())
    stuck = session.scalar(select(func.count()).where(PrintJob.status == "queued",
                                                       PrintJob.attempts >= STUCK_AFTER))
    oldest = session.scalar(select(func.min(PrintJob.created_at)).where(PrintJob.status.in_(("queued", "sending"))))
    return {"queued": counts.get("queued", 0), "sending": counts.get("sending", 0),
            "failed": counts.get("failed", 0), "in_doubt": counts.get("in_doubt", 0), "stuck": stuck or 0,
            "oldest_waiting_seconds": round((now - oldest).total_seconds()) if oldest else None}
