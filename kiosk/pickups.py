"""Pending pickups: residents whose stub the kiosk read and who wait at the desk.

Issue 12: the desk lists them oldest first with where to fetch each item from; a
clerk who goes to fetch one takes it "in hand", so a second clerk does not walk to
the storeroom for the same bag. Taking one is a conditional step on the item's row
(locked first, as everywhere in the ledger): of two clerks who take the same pickup
at once, exactly one gets it, the other is told who has it.

Both facts live in the audit trail: the kiosk's scan (``scan`` with ``next``
``present_at_desk``) and the clerk's ``in_hand``, so a page that opens later, or
another app server, sees the same list.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, claims, ledger
from .errors import Conflict
from .models import AuditEvent, Item
from .values import Actor

KIOSK = "kiosk"
# How far back the desk's list of people waiting at the kiosk reaches.
WINDOW = timedelta(hours=2)


@dataclass(frozen=True)
class Pending:
    item: Item
    at: datetime                 # when the kiosk read the stub
    device: str | None
    in_hand_by: str | None       # the clerk fetching it, if one is


def _waiting_scan(session: Session, item_id: int) -> AuditEvent | None:
    """The kiosk's latest scan of this item that sent its owner to the desk."""
    rows = session.scalars(select(AuditEvent).where(
        AuditEvent.item_id == item_id, AuditEvent.event == "scan", AuditEvent.actor_role == KIOSK,
    ).order_by(AuditEvent.seq.desc()).limit(20))
    for row in rows:
        if json.loads(row.details).get("next") == claims.NEXT_PRESENT_AT_DESK:
            return row
    return None


def _in_hand_since(session: Session, item_id: int, after_seq: int) -> AuditEvent | None:
    return session.scalar(select(AuditEvent).where(
        AuditEvent.item_id == item_id, AuditEvent.event == "in_hand", AuditEvent.seq > after_seq,
    ).order_by(AuditEvent.seq).limit(1))


def pending(session: Session, now: datetime | None = None, window: timedelta = WINDOW) -> list[Pending]:
    """Items a kiosk sent to the desk within ``window`` and still held, oldest first, each once."""
    now = now or datetime.now(UTC)
    rows = session.execute(
        select(AuditEvent, Item).join(Item, Item.id == AuditEvent.item_id)
        .where(AuditEvent.event.in_(("scan", "in_hand")), AuditEvent.at >= now - window, Item.status == "held")
        .order_by(AuditEvent.seq)).all()
    waiting: dict[int, Pending] = {}
    for event, item in rows:
        if event.event == "in_hand":
            if item.id in waiting:
                waiting[item.id] = Pending(item, waiting[item.id].at, waiting[item.id].device, event.actor)
            continue
        if event.actor_role != KIOSK or json.loads(event.details).get("next") != claims.NEXT_PRESENT_AT_DESK:
            continue
        if item.id not in waiting:
            waiting[item.id] = Pending(item, event.at, event.device, None)
    return sorted(waiting.values(), key=lambda p: p.at)


def take_in_hand(session: Session, actor: Actor, item_id: int, now: datetime | None = None) -> AuditEvent:
    """``actor`` goes to fetch the item a resident waits for. Taking one's own again is fine;
    one another clerk has is refused (409 ``pickup_already_in_hand``, with who has it)."""
    now = now or datetime.now(UTC)
    item = ledger.get_item(session, item_id, lock=True)
    ledger.check_held(item)
    scan = _waiting_scan(session, item.id)
    if scan is None:
        raise Conflict(code="pickup_not_waiting", ticket_no=item.ticket_no)
    taken = _in_hand_since(session, item.id, scan.seq)
    if taken is not None:
        if taken.actor == actor.name:
            return taken
        raise Conflict(code="pickup_already_in_hand", ticket_no=item.ticket_no, by=taken.actor)
    return audit.append(session, "in_hand", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "location": item.location, "scan_seq": scan.seq})
