"""The durable print queue: labels wait here until a printer has taken them.

Jobs are rows written in the caller's transaction. A worker claims due jobs
(row locks with SKIP LOCKED, so several workers never take the same job),
sends them, and marks each printed exactly once; a printer that is offline
puts its jobs back with a growing delay. Nothing here talks to a printer.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from . import audit
from .errors import AlreadyReleased, Conflict, InvalidInput, NotFound
from .models import Item, PrintJob
from .values import Actor

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=5)
# After this many failed attempts a queued job shows as "stuck" to staff, while it keeps retrying.
STUCK_AFTER = 3
STATES = ("queued", "sending", "printed", "failed")


def enqueue(session: Session, actor: Actor, item: Item, printer: str, printer_url: str, *,
            reprint: bool = False, now: datetime | None = None) -> PrintJob:
    now = now or datetime.now(UTC)
    if reprint:
        # The item's row first (kiosk.ledger's lock order): the job's foreign key takes a
        # share lock on it, which must not come before this row lock.
        session.refresh(item, with_for_update=True)
        if item.status != "held":
            raise AlreadyReleased(ticket_no=item.ticket_no)
        audit.append(session, "reprint", actor, item_id=item.id, now=now,
                     details={"ticket_no": item.ticket_no, "printer": printer,
                              "generation": item.claim_generation})
    job = PrintJob(item_id=item.id, printer=printer, printer_url=printer_url, reprint=reprint, status="queued",
                   attempts=0, next_attempt_at=now, requested_by=actor.name, created_at=now)
    session.add(job)
    session.flush()
    return job


def claim_due(session: Session, now: datetime | None = None, limit: int = 10) -> list[PrintJob]:
    """Take up to ``limit`` due jobs for sending; the caller commits before sending."""
    now = now or datetime.now(UTC)
    due = or_(
        and_(PrintJob.status == "queued", PrintJob.next_attempt_at <= now),
        and_(PrintJob.status == "sending", PrintJob.lease_until < now),
    )
    jobs = list(session.scalars(
        select(PrintJob).where(due).order_by(PrintJob.id).limit(limit).with_for_update(skip_locked=True)
    ))
    for job in jobs:
        job.status, job.lease_until, job.attempts = "sending", now + LEASE, job.attempts + 1
    session.flush()
    return jobs


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
    job = session.get(PrintJob, job_id, populate_existing=True)
    item = session.get(Item, job.item_id)
    audit.append(session, "print", worker, item_id=job.item_id, now=now, details={
        "ticket_no": item.ticket_no, "job_id": job.id, "printer": job.printer, "reprint": job.reprint,
        "attempts": job.attempts, "generation": item.claim_generation,
    })
    return True


def _backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=2 ** min(attempts, 10)))


def mark_offline(session: Session, job_id: int, code: str, message: str, now: datetime | None = None) -> datetime:
    """Put a job back after its printer did not answer; other queued jobs for that printer wait too,
    so one offline printer does not cost a connect timeout per label."""
    now = now or datetime.now(UTC)
    job = session.get(PrintJob, job_id, populate_existing=True)
    retry_at = now + _backoff(job.attempts)
    session.execute(
        update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "sending")
        .values(status="queued", next_attempt_at=retry_at, lease_until=None, last_error_code=code,
                last_error=message[:1000])
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
        .values(status="failed", lease_until=None, last_error_code=code, last_error=message[:1000])
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


def list_jobs(session: Session, *, state: str = "open", limit: int = 100) -> list[PrintJob]:
    """``open``: everything not yet printed (what staff must watch); or one status."""
    query = select(PrintJob)
    if state == "open":
        query = query.where(PrintJob.status.in_(("queued", "sending", "failed")))
    elif state in STATES:
        query = query.where(PrintJob.status == state)
    else:
        raise InvalidInput(code="invalid_query", field="state", choices=("open",) + STATES)
    return list(session.scalars(query.order_by(PrintJob.id.desc()).limit(limit)))


def queue_state(session: Session, now: datetime | None = None) -> dict:
    """What a health check reports: jobs waiting, stuck and failed, and how old the oldest wait is."""
    now = now or datetime.now(UTC)
    counts = dict(session.execute(
        select(PrintJob.status, func.count()).where(PrintJob.status != "printed").group_by(PrintJob.status)).all())
    stuck = session.scalar(select(func.count()).where(PrintJob.status == "queued",
                                                       PrintJob.attempts >= STUCK_AFTER))
    oldest = session.scalar(select(func.min(PrintJob.created_at)).where(PrintJob.status.in_(("queued", "sending"))))
    return {"queued": counts.get("queued", 0), "sending": counts.get("sending", 0),
            "failed": counts.get("failed", 0), "stuck": stuck or 0,
            "oldest_waiting_seconds": round((now - oldest).total_seconds()) if oldest else None}
