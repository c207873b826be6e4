"""The append-only, hash-chained audit trail.

Each row's hash covers its own content and the previous row's hash, so editing
or deleting any row breaks every hash after it; the one-row head table holds the
last sequence number and hash, so cutting rows off the end shows too. The
database refuses UPDATE and DELETE on the table (triggers in the migration);
the chain is what catches someone who got past that.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditEvent, AuditHead
from .values import Actor

GENESIS = "0" * 64

EVENTS = (
    "deposit", "refusal", "print", "reprint", "scan", "release", "release_refused",
    "lost", "reissue", "move", "alert", "alert_resolved",
    "lend", "lend_refused", "key_return", "reveal", "undeliverable", "returned_to_post",
    "resident_added", "resident_changed", "resident_moved_out", "notification_reviewed",
    "complaint_taken", "complaint_changed", "complaint_reply", "complaint_reassigned", "work_order_changed",
    "calendar_changed",
    # Shift handovers and key counts (kiosk.handover).
    "handover_open", "handover_note", "handover_scan", "handover_explain", "handover_sign",
    "handover_signed", "handover_cancel",
    # The supervisor's follow-up of unclaimed items (kiosk/contacts.py, kiosk/unclaimed.py).
    "contact", "notify_requested",
    "disposal_requested", "disposal_declined", "disposal_refused", "disposed", "lost_and_found",
    # A clerk goes to fetch an item a resident waits for at the kiosk (kiosk/pickups.py).
    "in_hand",
)


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _row_hash(prev_hash: str, seq: int, at: datetime, event: str, item_id: int | None,
              actor: str, actor_role: str, device: str | None, details: str) -> str:
    body = canonical({
        "seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "event": event,
        "item_id": item_id, "actor": actor, "actor_role": actor_role, "device": device,
        "details": details,
    })
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


def append(session: Session, event: str, actor: Actor, *, item_id: int | None = None,
           details: dict | None = None, now: datetime | None = None) -> AuditEvent:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    # Lock the head row: concurrent appends queue here instead of forking the chain.
    head = session.scalars(
        select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    ).one()
    # Microseconds are what both SQLite and PostgreSQL keep, so the hash survives the round trip.
    at = (now or datetime.now(UTC)).astimezone(UTC)
    text = canonical(details or {})
    seq = head.seq + 1
    row = AuditEvent(
        seq=seq, at=at, event=event, item_id=item_id, actor=actor.name, actor_role=actor.role,
        device=actor.device, details=text, prev_hash=head.hash,
        hash=_row_hash(head.hash, seq, at, event, item_id, actor.name, actor.role, actor.device, text),
    )
    session.add(row)
    head.seq = seq
    head.hash = row.hash
    session.flush()
    return row


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def anchor(session: Session, head: ChainHead, *, reason: str, ref: int | None = None) -> None:
    """Hand a chain head to whatever keeps it outside the database.

    Called at every signed handover (``reason="handover"``, ``ref`` its id), whose
    row and sheet already carry the head. Writing it to an append-only anchor file
    outside the database is the trust work's (issue 8) to hook in here; it should
    do so after the caller's commit (e.g. queued in ``session.info`` for an
    ``after_commit`` listener), so a rolled-back signing anchors nothing.
    """


@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    problems: tuple[str, ...]


def verify(session: Session, batch: int = 5000) -> Verdict:
    """Walk the whole chain; report every row whose hash or link does not hold."""
    problems: list[str] = []
    prev_hash, expected_seq, rows = GENESIS, 1, 0
    last_seq = 0
    while True:
        # Plain rows, not ORM objects: a long chain must not fill the identity map.
        chunk = session.execute(
            select(*AuditEvent.__table__.c).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not chunk:
            break
        for row in chunk:
            rows += 1
            if row.seq != expected_seq:
                problems.append(f"rows {expected_seq}..{row.seq - 1} are missing")
            if row.prev_hash != prev_hash:
                problems.append(f"row {row.seq} does not link to the row before it")
            recomputed = _row_hash(row.prev_hash, row.seq, row.at, row.event, row.item_id, row.actor,
                                   row.actor_role, row.device, row.details)
            if recomputed != row.hash:
                problems.append(f"row {row.seq} was altered after it was written")
            prev_hash, expected_seq, last_seq = row.hash, row.seq + 1, row.seq
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append("the chain head is missing")
    elif head.seq != last_seq or head.hash != prev_hash:
        problems.append(f"the chain ends at row {last_seq} but its head records row {head.seq}: rows were removed")
    return Verdict(ok=not problems, rows=rows, problems=tuple(problems))


def events_for(session: Session, item_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.seq)))


def head(session: Session) -> tuple[int, str]:
    """The chain's last sequence number and hash."""
    row = session.get(AuditHead, 1)
    return (row.seq, row.hash) if row else (0, GENESIS)
