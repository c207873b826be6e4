"""What the desk does with items nobody collects: to lost-and-found, disposed of, or the
owner reminded once more through the notifications outbox (mail goes back to the post office: kiosk/mail.py).

Every action is an audit event. Disposal and lost-and-found take two people: one
asks, a supervisor who is not the one who asked approves (a refused self-approval
leaves its own trace). Mail is never disposed of — "nobody opens, hides or
destroys anyone's mail" — it goes back to the post office (kiosk/mail.py).

Lock order as everywhere: the item's row, then the request's, then the audit chain.
"""
from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import accounts, audit, ledger, notices, outbox, overdue, policy
from .errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NotHeld,
    SecondApproverRequired,
)
from .models import DisposalRequest, Item, Notification
from .refusals import refuse
from .values import Actor

ACTIONS = ("dispose", "lost_and_found")
# The audit event and the item status each action ends in.
ENDS = {"dispose": "disposed", "lost_and_found": "lost_and_found"}
REASON_LIMIT = 200


def _text(value: str | None, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(code="missing_field", field=field)
    if len(value) > limit:
        raise InvalidInput(code="too_long", field=field, limit=limit)
    return value


def _held(session: Session, item_id: int) -> Item:
    item = ledger.get_item(session, item_id, lock=True)
    if item.status != "held":
        raise NotHeld(ticket_no=item.ticket_no, state=item.status)
    return item


def _leave(item: Item, actor: Actor, status: str, now: datetime, collector: str | None = None,
           method: str | None = None) -> None:
    """The item leaves the desk's custody (its row is locked by the caller)."""
    item.status, item.release_method = status, method or status
    item.released_at, item.released_by_id, item.released_by_name = now, actor.user_id, actor.name
    item.collector_name = collector


# ---------------------------------------------------------------- disposal, two people

def request_disposal(session: Session, actor: Actor, item_id: int, action: str, reason: str, *,
                     now: datetime | None = None, tz: tzinfo = UTC) -> DisposalRequest:
    """Ask to dispose of an overdue item or hand it to lost-and-found; a second supervisor decides."""
    now = now or datetime.now(UTC)
    if action not in ACTIONS:
        raise InvalidInput(code="invalid_action", field="action", choices=ACTIONS)
    reason = _text(reason, "reason", REASON_LIMIT)
    item = _held(session, item_id)
    if item.kind in policy.NOTICE_KINDS:
        raise Conflict(code="mail_returns_to_post", ticket_no=item.ticket_no)
    status = overdue.status_of(session, item, now=now, tz=tz).status
    if status not in overdue.OVERDUE:
        raise Conflict(code="not_overdue", ticket_no=item.ticket_no, policy_status=status)
    pending = session.scalar(select(DisposalRequest.id).where(DisposalRequest.item_id == item.id,
                                                              DisposalRequest.state == "pending"))
    if pending is not None:
        raise Conflict(code="disposal_pending", request_id=pending, ticket_no=item.ticket_no)
    request = DisposalRequest(item_id=item.id, action=action, reason=reason, state="pending",
                              requested_by_id=actor.user_id, requested_by=actor.name, requested_at=now)
    session.add(request)
    session.flush()
    audit.append(session, "disposal_requested", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "request_id": request.id, "action": action, "reason": reason,
        "policy_status": status,
    })
    return request


def _same_person(actor: Actor, request: DisposalRequest) -> bool:
    if actor.user_id is not None or request.requested_by_id is not None:
        return actor.user_id == request.requested_by_id
    return actor.name == request.requested_by


def _pending(session: Session, request_id: int) -> tuple[DisposalRequest, Item]:
    """The request and its item, both locked, item first."""
    item_id = session.scalar(select(DisposalRequest.item_id).where(DisposalRequest.id == request_id))
    if item_id is None:
        raise NotFound(id=request_id)
    item = ledger.get_item(session, item_id, lock=True)
    request = session.get(DisposalRequest, request_id, with_for_update=True, populate_existing=True)
    if request.state != "pending":
        raise Conflict(code="disposal_not_pending", request_id=request.id, state=request.state)
    return request, item


def approve_disposal(session: Session, actor: Actor, request_id: int, note: str = "",
                     now: datetime | None = None) -> DisposalRequest:
    """A second supervisor approves: the item leaves custody as disposed or lost-and-found."""
    now = now or datetime.now(UTC)
    note = _text(note, "note", policy.TEXT_LIMITS["note"], required=False)
    if not accounts.may(actor.role, "approve_disposal"):
        raise Forbidden(code="approver_not_supervisor", role=actor.role)
    request, item = _pending(session, request_id)
    if _same_person(actor, request):
        raise refuse(SecondApproverRequired(request_id=request.id, requested_by=request.requested_by),
                     "disposal_refused", actor, item_id=item.id, now=now,
                     details={"ticket_no": item.ticket_no, "request_id": request.id, "action": request.action})
    if item.status != "held":
        raise NotHeld(ticket_no=item.ticket_no, state=item.status)
    request.state, request.decided_by_id, request.decided_by = "approved", actor.user_id, actor.name
    request.decided_at, request.decision_note = now, note or None
    _leave(item, actor, ENDS[request.action], now)
    audit.append(session, ENDS[request.action], actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "request_id": request.id, "reason": request.reason,
        "requested_by": request.requested_by, "approved_by": actor.name, "note": note,
    })
    return request


def decline_disposal(session: Session, actor: Actor, request_id: int, note: str = "",
                     now: datetime | None = None) -> DisposalRequest:
    """A supervisor declines the request, or the one who asked withdraws it; the item stays held."""
    now = now or datetime.now(UTC)
    note = _text(note, "note", policy.TEXT_LIMITS["note"], required=False)
    request, item = _pending(session, request_id)
    if not accounts.may(actor.role, "approve_disposal") and not _same_person(actor, request):
        raise Forbidden(code="approver_not_supervisor", role=actor.role)
    request.state, request.decided_by_id, request.decided_by = "declined", actor.user_id, actor.name
    request.decided_at, request.decision_note = now, note or None
    audit.append(session, "disposal_declined", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "request_id": request.id, "withdrawn": _same_person(actor, request),
        "note": note,
    })
    return request


def disposal_requests(session: Session, *, state: str | None = "pending", item_id: int | None = None,
                      limit: int = 100) -> list[DisposalRequest]:
    query = select(DisposalRequest)
    if state is not None:
        query = query.where(DisposalRequest.state == state)
    if item_id is not None:
        query = query.where(DisposalRequest.item_id == item_id)
    return list(session.scalars(query.order_by(DisposalRequest.id.desc()).limit(limit)))


# ---------------------------------------------------------------- notify the owner, through the outbox

# What the page and the API offer; a notice slip (printed for the mailbox) only for mail and parcels,
# whose labels have a pickup notice part.
CHANNELS = ("sms", "email", "notice_slip")
OUTBOX_CHANNEL = {"sms": "sms", "email": "email", "notice_slip": "slip"}
# Luggage, keys and short-term items: a reminder that names the item and asks for the stub. It never
# carries a code — the stub in the owner's hand is the only proof for collection.
ITEM_REMINDER = "item_reminder"


@dataclass(frozen=True)
class Notified:
    message: Notification
    queued: bool      # False: the same reminder was still waiting to go out, and nothing new was queued


def notify_owner(session: Session, actor: Actor, item_id: int, channel: str, *,
                 now: datetime | None = None) -> Notified:
    """Queue a reminder to the owner of a held item in the notifications outbox; the notify worker
    sends it exactly once.

    A reminder on the same channel that is still unsent is answered instead of a second one:
    a double click, two supervisors at once (the item's row is locked first) or the express
    schedule's own reminder never make the owner's phone ring twice.
    """
    now = now or datetime.now(UTC)
    if channel not in CHANNELS:
        raise InvalidInput(code="invalid_notify_channel", field="channel", choices=CHANNELS)
    item = _held(session, item_id)
    notice_kind = item.kind in policy.NOTICE_KINDS
    if channel == "notice_slip" and not notice_kind:
        raise InvalidInput(code="invalid_notify_channel", field="channel", choices=("sms", "email"))
    address = {"sms": item.owner_phone, "email": item.owner_email, "notice_slip": item.owner_unit}[channel]
    if not address:
        raise InvalidInput(code="no_owner_address", field="channel", channel=channel, ticket_no=item.ticket_no)
    waiting = session.scalar(
        select(Notification).where(Notification.item_id == item.id,
                                   Notification.channel == OUTBOX_CHANNEL[channel],
                                   Notification.status.in_(outbox.UNSENT))
        .order_by(Notification.id.desc()).limit(1))
    if waiting is not None:
        return Notified(message=waiting, queued=False)
    attempt = len(notices.attempt_times(session, item.id))
    template = (notices.SLIP if channel == "notice_slip" else notices.REMINDER) if notice_kind else ITEM_REMINDER
    message = outbox.add(session, channel=OUTBOX_CHANNEL[channel], address=address, template=template,
                         locale=notices.owner_locale(session, item), params=notices.notice_params(item, attempt),
                         item_id=item.id, attempt=attempt, now=now)
    audit.append(session, "notify_requested", actor, item_id=item.id, now=now,
                 details={"ticket_no": item.ticket_no, "channel": channel, "message_id": message.id,
                          "attempt": attempt})
    return Notified(message=message, queued=True)
