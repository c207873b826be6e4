"""The append-only audit trail: keyed rows written without a lock, chained by one sealer.

Writing (``append``) takes no lock: a row gets the next number from a sequence and
an HMAC of its own content under the audit key (derived from the site secret, never
stored in the database), in the caller's transaction. Requests do not queue on a
chain head any more.

Chaining (``seal``) is one sealer's work: whoever holds the sealer lock (a
PostgreSQL advisory lock, ``lead_sealing``; on SQLite the one writer) takes the rows
committed since its last pass, in number order, and writes one seal per row:
positions 1, 2, 3… without gaps, each hash keyed and covering the seal before it,
the row's number and the row's hash. A number whose transaction rolled back never
shows up and is never sealed; a row deleted after it was sealed leaves a seal
without its row. Nobody without the key can recompute the chain.

``verify`` walks the seals, rechecks every row, reports rows not sealed yet
separately, and compares the chain with the anchors kept outside the database
(kiosk.anchors).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, insert, select, text
from sqlalchemy.orm import Session

from .direct import Direct
from .models import AuditEvent, AuditSeal, Item
from .values import Actor

GENESIS = "0" * 64

EVENTS = (
    "deposit", "refusal", "print", "reprint", "scan", "release", "release_refused",
    "lost", "reissue", "move", "alert", "alert_resolved",
    "label_view", "print_in_doubt",
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

# The PostgreSQL advisory lock whose holder is the one sealer.
SEALER_LOCK = 0x6B696F736B
# How far back (in row numbers) a sealer that just took over looks for rows that committed late.
REWIND = 10_000
# Events whose sealing anchors the chain's head at once (README: "anchors").
ANCHORED_EVENTS = frozenset({"handover_signed"})
# A number missing for this long belonged to a transaction that rolled back: stop looking for it.
LATE_ROW_SECONDS = 600.0
# Rows waiting longer than this for a seal mean no sealer is running.
STALE_AFTER = timedelta(minutes=10)


class AuditKeyMissing(RuntimeError):
    """A session was made without the audit key (kiosk.db.session_factory(engine, audit_key=…))."""


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _stamp(at: datetime) -> str:
    # Microseconds are what both SQLite and PostgreSQL keep, so the hash survives the round trip.
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(key: bytes, at: datetime, event: str, item_id: int | None, actor: str, actor_role: str,
             device: str | None, details: str) -> str:
    """A row's own hash: its content under the audit key. The row's number is bound by its seal."""
    body = canonical({"at": _stamp(at), "event": event, "item_id": item_id, "actor": actor,
                      "actor_role": actor_role, "device": device, "details": details})
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def legacy_hash(prev_hash: str, seq: int, at: datetime, event: str, item_id: int | None, actor: str,
                actor_role: str, device: str | None, details: str) -> str:
    """Rows written before the keyed chain: plain SHA-256 over the previous row's hash and the row."""
    body = canonical({"seq": seq, "at": _stamp(at), "event": event, "item_id": item_id, "actor": actor,
                      "actor_role": actor_role, "device": device, "details": details})
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


def seal_hash(key: bytes, prev_hash: str, position: int, seq: int, digest: str) -> str:
    return hmac.new(key, f"{prev_hash}\n{position}\n{seq}\n{digest}".encode(), hashlib.sha256).hexdigest()


def audit_key(session: Session) -> bytes:
    key = session.info.get("audit_key")
    if not key:
        raise AuditKeyMissing("this session has no audit key: make it with kiosk.db.session_factory(…, audit_key=…)")
    return key


@dataclass(frozen=True, slots=True)
class Written:
    """An audit row as ``append`` wrote it: the fields of ``AuditEvent``, without the ORM."""

    seq: int
    at: datetime
    event: str
    item_id: int | None
    actor: str
    actor_role: str
    device: str | None
    details: str
    hash: str
    # The item the row is about, when the writer had it at hand: whoever describes the row
    # next in this transaction (web/events.py) need not read it again.
    subject: Item | None = field(default=None, compare=False, repr=False)


# Whoever wants the rows a transaction writes (web/events.py: the live pages) puts a list in
# ``session.info`` under this key when the transaction begins; ``append`` adds each row to it.
WRITTEN = "kiosk.audit.written"
_INSERT = Direct(insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.seq))


def append(session: Session, event: str, actor: Actor, *, item_id: int | None = None,
           details: dict | None = None, now: datetime | None = None, subject: Item | None = None) -> Written:
    """Write one row in the caller's transaction. Takes no lock: its number comes from a sequence.

    One Core INSERT … RETURNING (the ORM's unit of work cost more than the row itself); what the
    session has pending is flushed first, so the trail still follows the changes it records."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    at = (now or datetime.now(UTC)).astimezone(UTC)
    body = canonical(details or {})
    digest = row_hash(audit_key(session), at, event, item_id, actor.name, actor.role, actor.device, body)
    session.flush()
    seq = _INSERT.one(session, {
        "at": at, "event": event, "item_id": item_id, "actor": actor.name, "actor_role": actor.role,
        "device": actor.device, "details": body, "hash": digest})["seq"]
    row = Written(seq, at, event, item_id, actor.name, actor.role, actor.device, body, digest, subject)
    written = session.info.get(WRITTEN)
    if written is not None:
        written.append(row)
    return row


def events_for(session: Session, item_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.item_id == item_id).order_by(AuditEvent.seq)))


def head(session: Session) -> tuple[int, str]:
    """The sealed chain's last position and hash."""
    row = session.execute(select(AuditSeal.position, AuditSeal.hash)
                          .order_by(AuditSeal.position.desc()).limit(1)).first()
    return (row.position, row.hash) if row else (0, GENESIS)


# --- sealing -------------------------------------------------------------------------------

def lead_sealing(connection) -> bool:
    """Try to become the one sealer of this PostgreSQL database. The advisory lock is held
    as long as ``connection`` lives, so a sealer that dies hands over by itself."""
    return bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": SEALER_LOCK}))


@dataclass
class SealState:
    """What the sealer remembers between passes while it holds the lock."""

    position: int = 0
    hash: str = GENESIS
    # The highest row number sealed or seen missing, and the missing numbers below it that
    # may still commit (a transaction that took its number earlier and commits later).
    max_seq: int = 0
    waiting: dict[int, float] = field(default_factory=dict)
    known: bool = False
    # Set when a pass sealed a row that must be anchored outside the database at once (a
    # signed handover); whoever writes the anchor file clears it (web/sealer.py).
    anchor_due: bool = False


def _catch_up(session: Session, state: SealState, position: int, digest: str, clock: float) -> None:
    """Relearn what another sealer (or an earlier life of this one) left: the last row sealed and
    the unsealed numbers below it, which might still commit."""
    sealed_max = session.scalar(select(func.max(AuditSeal.event_seq))) or 0
    low = max(0, sealed_max - REWIND)
    sealed = set(session.scalars(select(AuditSeal.event_seq).where(AuditSeal.event_seq > low)))
    state.position, state.hash, state.max_seq, state.known = position, digest, sealed_max, True
    state.waiting = {seq: clock for seq in range(low + 1, sealed_max + 1) if seq not in sealed}


def seal(session: Session, key: bytes, state: SealState | None = None, *, now: datetime | None = None,
         batch: int = 1000, clock=time.monotonic, announce: Callable[[Session, list], None] | None = None) -> int:
    """Chain the rows committed since the last pass; return how many were sealed.

    Only the lock holder calls this (``lead_sealing``; on SQLite the write lock of this
    transaction orders sealers). The caller commits.

    ``announce`` is given the rows this pass seals, whole and in the order sealed, before the
    caller commits: whatever it writes in this transaction (web/events.py: the live pages'
    ``NOTIFY``) happens if and only if they are sealed, once.
    """
    state = state if state is not None else SealState()
    now = now or datetime.now(UTC)
    position, prev = head(session)
    if not state.known or (position, prev) != (state.position, state.hash):
        _catch_up(session, state, position, prev, clock())
    columns = tuple(AuditEvent.__table__.c) if announce else (AuditEvent.seq, AuditEvent.hash, AuditEvent.event)
    rows = session.execute(select(*columns).where(AuditEvent.seq > state.max_seq)
                           .order_by(AuditEvent.seq).limit(batch)).all()
    late = session.execute(select(*columns).where(AuditEvent.seq.in_(list(state.waiting)))).all() \
        if state.waiting else []
    seen = clock()
    if rows:
        present = {row.seq for row in rows}
        for seq in range(max(state.max_seq + 1, rows[-1].seq - REWIND), rows[-1].seq):
            if seq not in present:
                state.waiting[seq] = seen
        state.max_seq = rows[-1].seq
    for row in late:
        state.waiting.pop(row.seq, None)
    for seq, first_seen in list(state.waiting.items()):
        if seen - first_seen > LATE_ROW_SECONDS:
            del state.waiting[seq]
    seals = []
    ordered = sorted([*late, *rows], key=lambda r: r.seq)
    for row in ordered:
        state.anchor_due |= row.event in ANCHORED_EVENTS
        position += 1
        prev = seal_hash(key, prev, position, row.seq, row.hash)
        seals.append({"position": position, "event_seq": row.seq, "hash": prev, "sealed_at": now})
    if seals:
        session.execute(insert(AuditSeal.__table__), seals)   # Core: the ORM's bulk insert cost more per row
        if announce is not None:
            announce(session, ordered)
    state.position, state.hash = position, prev
    return len(seals)


# --- verification --------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    ok: bool
    rows: int
    sealed: int
    unsealed: int
    anchors: int
    head_position: int
    head_hash: str
    problems: tuple[str, ...]


def _altered(key: bytes, row) -> bool:
    if row.prev_hash is not None:
        expected = legacy_hash(row.prev_hash, row.seq, row.at, row.event, row.item_id, row.actor, row.actor_role,
                               row.device, row.details)
    else:
        expected = row_hash(key, row.at, row.event, row.item_id, row.actor, row.actor_role, row.device, row.details)
    return not hmac.compare_digest(expected, row.hash)


def _walk_seals(session: Session, key: bytes, anchors: dict, problems: list[str], batch: int) -> tuple[int, int, str]:
    prev, expected, last, sealed = GENESIS, 1, 0, 0
    while True:
        chunk = session.execute(
            select(AuditSeal.position, AuditSeal.event_seq, AuditSeal.hash.label("seal_hash"),
                   *AuditEvent.__table__.c)
            .outerjoin(AuditEvent, AuditEvent.seq == AuditSeal.event_seq)
            .where(AuditSeal.position > last).order_by(AuditSeal.position).limit(batch)
        ).all()
        if not chunk:
            return sealed, last, prev
        for row in chunk:
            if row.position != expected:
                problems.append(f"seals {expected}..{row.position - 1} are missing: the chain was cut")
            if row.seq is None:
                problems.append(f"row {row.event_seq} (seal {row.position}) was deleted after it was sealed")
            else:
                sealed += 1
                if _altered(key, row):
                    problems.append(f"row {row.seq} was altered after it was written")
                if not hmac.compare_digest(seal_hash(key, prev, row.position, row.seq, row.hash), row.seal_hash):
                    problems.append(f"seal {row.position} (row {row.seq}) does not match: the chain was rewritten")
            for anchor in anchors.pop(row.position, ()):
                if anchor.hash != row.seal_hash:
                    problems.append(f"seal {row.position} differs from the anchor of {anchor.at:%Y-%m-%d %H:%M} "
                                    f"({anchor.reason}): the chain was rewritten since")
            prev, expected, last = row.seal_hash, row.position + 1, row.position


def _walk_unsealed(session: Session, key: bytes, problems: list[str], batch: int) -> tuple[int, datetime | None]:
    count, oldest, last = 0, None, 0
    unsealed = ~exists(select(AuditSeal.position).where(AuditSeal.event_seq == AuditEvent.seq))
    while True:
        chunk = session.execute(select(*AuditEvent.__table__.c).where(unsealed, AuditEvent.seq > last)
                                .order_by(AuditEvent.seq).limit(batch)).all()
        if not chunk:
            return count, oldest
        for row in chunk:
            count += 1
            oldest = row.at if oldest is None else min(oldest, row.at)
            if _altered(key, row):
                problems.append(f"row {row.seq} (not sealed yet) was altered after it was written")
            last = row.seq


def _check_legacy_links(session: Session, problems: list[str]) -> None:
    prev = GENESIS
    for seq, prev_hash, digest in session.execute(
            select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
            .where(AuditEvent.prev_hash.is_not(None)).order_by(AuditEvent.seq)):
        if prev_hash != prev:
            problems.append(f"row {seq} does not link to the row before it")
        prev = digest


def verify(session: Session, key: bytes, *, anchors: Iterable = (), now: datetime | None = None,
           stale_after: timedelta = STALE_AFTER, batch: int = 5000) -> Verdict:
    """Walk the whole chain and every row; report every seal, row and anchor that does not hold.

    ``anchors`` are kiosk.anchors.Anchor values (read from the anchor file with the key)."""
    now = now or datetime.now(UTC)
    problems: list[str] = []
    by_position: dict[int, list] = {}
    anchors = list(anchors)
    for anchor in anchors:
        if not anchor.authentic:
            problems.append(f"anchor line {anchor.line} was not written with this site's key")
        elif anchor.position == 0:
            if anchor.hash != GENESIS:
                problems.append(f"anchor line {anchor.line} records an empty chain with a hash")
        else:
            by_position.setdefault(anchor.position, []).append(anchor)
    sealed, position, digest = _walk_seals(session, key, by_position, problems, batch)
    for later in sorted(by_position):
        for anchor in by_position[later]:
            problems.append(f"the anchor of {anchor.at:%Y-%m-%d %H:%M} ({anchor.reason}) records seal {later} "
                            f"but the chain ends at seal {position}: rows were removed")
    unsealed, oldest = _walk_unsealed(session, key, problems, batch)
    if oldest is not None and oldest < now - stale_after:
        problems.append(f"{unsealed} rows are not sealed, the oldest from {oldest:%Y-%m-%d %H:%M}: "
                        "is a sealer running (kiosk serve, kiosk print-worker or kiosk audit seal)?")
    _check_legacy_links(session, problems)
    orphans = session.scalar(select(func.count()).select_from(Item).where(~exists(
        select(AuditEvent.seq).where(AuditEvent.item_id == Item.id, AuditEvent.event == "deposit"))))
    if orphans:
        problems.append(f"{orphans} items have no deposit in the trail: rows were removed")
    return Verdict(ok=not problems, rows=sealed + unsealed, sealed=sealed, unsealed=unsealed,
                   anchors=len(anchors), head_position=position, head_hash=digest, problems=tuple(problems))
