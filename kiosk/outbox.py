"""The notification outbox: messages to owners, sent exactly once.

A message is a row written in the transaction of the event that causes it (a
parcel taken in, a reminder falling due), so no message exists for an event
that was rolled back and no committed event loses its message. The notify
worker claims due rows (SKIP LOCKED, like the print queue), sends each through
a sender, and marks it.

Exactly once, when a worker dies at the worst moment:
- ``claimed``: a worker holds a lease but has not reached its sender's point of
  no return. A lapsed lease puts the row back in the queue: nothing was sent.
- ``sending``: past the point of no return (the webhook request is going out;
  the SMTP server has accepted the recipients and is about to get the data).
  The worker records this before it crosses. If its lease lapses, the message
  may or may not have arrived: a channel whose receiver drops repeats of an
  idempotency key (the SMS gateway) gets it again under the same key; any
  other (SMTP) is marked ``in_doubt`` for staff to review, never re-sent.
Each worker's writes are fenced by ``tries`` (counted up at every claim): a
worker whose lease lapsed and whose row was claimed again cannot mark it.

Nothing here talks to a sender; the wording of messages lives outside kiosk/.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from . import audit
from .errors import Conflict, InvalidInput, NotFound
from .ledger import get_item
from .models import Item, Notification
from .printjobs import backoff
from .values import Actor

CHANNELS = ("email", "sms", "slip")
STATES = ("queued", "claimed", "sending", "sent", "failed", "in_doubt", "cancelled")
OPEN_STATES = ("queued", "claimed", "sending", "failed", "in_doubt")
# Still owed to the owner: what a new reminder supersedes, what collecting the item cancels.
UNSENT = ("queued", "claimed")
LEASE = timedelta(seconds=60)
REVIEW_OUTCOMES = ("delivered", "resend")


def add(session: Session, *, channel: str, address: str, template: str, locale: str, params: dict,
        item_id: int | None = None, attempt: int = 0, now: datetime | None = None) -> Notification:
    """Queue one message, in the caller's transaction."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    now = now or datetime.now(UTC)
    message = Notification(
        item_id=item_id, channel=channel, address=address, template=template, locale=locale,
        params=audit.canonical(params), attempt=attempt, idempotency_key=uuid.uuid4().hex, status="queued",
        tries=0, next_try_at=now, created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def params_of(message: Notification) -> dict:
    return json.loads(message.params)


def claim_due(session: Session, *, channels: Collection[str], resend_safe: Collection[str] = (),
              now: datetime | None = None, limit: int = 20) -> list[Notification]:
    """Take up to ``limit`` due messages on ``channels`` (those this worker can send); the caller
    commits before sending. ``resend_safe``: channels whose receiver drops repeats of a key.

    Before that: messages past the point of no return whose worker vanished are put
    in doubt (unless resend-safe), and unsent messages for items no longer held are
    cancelled: nobody is told to fetch a parcel they already have.
    """
    now = now or datetime.now(UTC)
    channels = tuple(channels)
    doubtful = tuple(c for c in channels if c not in resend_safe)
    lapsed = and_(Notification.status == "sending", Notification.lease_until < now)
    if doubtful:
        session.execute(
            update(Notification).where(lapsed, Notification.channel.in_(doubtful))
            .values(status="in_doubt", lease_until=None, last_error_code="worker_lost",
                    last_error="the worker stopped after the point of no return; it may have been delivered")
            .execution_options(synchronize_session=False))
    not_held = select(Item.id).where(Item.id == Notification.item_id, Item.status != "held").exists()
    session.execute(
        update(Notification)
        .where(Notification.status.in_(UNSENT), Notification.channel.in_(channels), not_held)
        .values(status="cancelled", lease_until=None, last_error_code="item_not_held", last_error=None)
        .execution_options(synchronize_session=False))
    due = or_(
        and_(Notification.status == "queued", Notification.next_try_at <= now),
        and_(Notification.status == "claimed", Notification.lease_until < now),
        and_(lapsed, Notification.channel.in_(tuple(resend_safe))),
    )
    messages = list(session.scalars(
        select(Notification).where(due, Notification.channel.in_(channels))
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ))
    for message in messages:
        message.status, message.lease_until, message.tries = "claimed", now + LEASE, message.tries + 1
    session.flush()
    return messages


def _fenced(message_id: int, tries: int, *states: str):
    return update(Notification).where(
        Notification.id == message_id, Notification.tries == tries, Notification.status.in_(states)
    ).execution_options(synchronize_session=False)


def begin_send(session: Session, message_id: int, tries: int, now: datetime | None = None) -> bool:
    """Record that the worker is crossing its sender's point of no return; False: the message is
    no longer this worker's (its lease lapsed and another took it), so it must not send."""
    now = now or datetime.now(UTC)
    return session.execute(
        _fenced(message_id, tries, "claimed").values(status="sending", lease_until=now + LEASE)
    ).rowcount == 1


def mark_sent(session: Session, message_id: int, tries: int, reference: str | None = None,
              now: datetime | None = None) -> bool:
    """The sender took the message. Also from ``in_doubt``: a slow worker's own answer settles the doubt."""
    now = now or datetime.now(UTC)
    return session.execute(
        _fenced(message_id, tries, "claimed", "sending", "in_doubt")
        .values(status="sent", sent_at=now, lease_until=None, reference=(reference or "")[:128] or None,
                last_error_code=None, last_error=None)
    ).rowcount == 1


def mark_retry(session: Session, message_id: int, tries: int, code: str, message: str,
               now: datetime | None = None) -> datetime:
    """A failure that nothing was delivered in (or a resend-safe channel): try again later."""
    now = now or datetime.now(UTC)
    retry_at = now + backoff(tries)
    session.execute(_fenced(message_id, tries, "claimed", "sending").values(
        status="queued", next_try_at=retry_at, lease_until=None, last_error_code=code,
        last_error=message[:1000]))
    return retry_at


def mark_failed(session: Session, message_id: int, tries: int, code: str, message: str) -> None:
    """A failure retrying cannot fix (a rejected address, a bad gateway URL): staff must act."""
    session.execute(_fenced(message_id, tries, "claimed", "sending").values(
        status="failed", lease_until=None, last_error_code=code, last_error=message[:1000]))


def mark_in_doubt(session: Session, message_id: int, tries: int, code: str, message: str) -> None:
    """The connection broke after the data went out: it may have arrived. Staff decide."""
    session.execute(_fenced(message_id, tries, "sending").values(
        status="in_doubt", lease_until=None, last_error_code=code, last_error=message[:1000]))


def supersede(session: Session, item_id: int, before_attempt: int) -> None:
    """Cancel the unsent messages of earlier attempts: a worker that was down wakes up to
    send the latest reminder, not a backlog of them."""
    session.execute(
        update(Notification).where(Notification.item_id == item_id, Notification.attempt < before_attempt,
                                   Notification.status == "queued")
        .values(status="cancelled", last_error_code="superseded")
        .execution_options(synchronize_session=False))


def cancel_for_item(session: Session, item_id: int, code: str) -> None:
    session.execute(
        update(Notification).where(Notification.item_id == item_id, Notification.status == "queued")
        .values(status="cancelled", last_error_code=code)
        .execution_options(synchronize_session=False))


def review(session: Session, actor: Actor, message_id: int, outcome: str, note: str = "",
           now: datetime | None = None) -> Notification:
    """Staff settle a message in doubt (or failed): ``delivered`` (the owner got it, or the mail
    server's log shows it) or ``resend`` (queued again, under the same idempotency key)."""
    now = now or datetime.now(UTC)
    if outcome not in REVIEW_OUTCOMES:
        raise InvalidInput(code="invalid_choice", field="outcome", choices=REVIEW_OUTCOMES)
    message = session.get(Notification, message_id)
    if message is None:
        raise NotFound(id=message_id)
    if message.item_id is not None:
        get_item(session, message.item_id, lock=True)  # the item's row first, then the message's
    message = session.get(Notification, message_id, with_for_update=True, populate_existing=True)
    if message.status not in ("in_doubt", "failed"):
        raise Conflict(code="notification_not_reviewable", id=message_id, state=message.status)
    before = message.status
    if outcome == "delivered":
        message.status, message.sent_at = "sent", now
    else:
        message.status, message.next_try_at = "queued", now
    message.reviewed_by, message.reviewed_at = actor.name, now
    audit.append(session, "notification_reviewed", actor, item_id=message.item_id, now=now, details={
        "notification_id": message.id, "channel": message.channel, "was": before, "outcome": outcome,
        "idempotency_key": message.idempotency_key, "note": note})
    return message


def list_messages(session: Session, *, state: str = "open", item_id: int | None = None,
                  limit: int = 100) -> list[Notification]:
    """``open``: everything staff may need to watch (not yet sent, failed, in doubt); or one status."""
    query = select(Notification)
    if state == "open":
        query = query.where(Notification.status.in_(OPEN_STATES))
    elif state == "all":
        pass
    elif state in STATES:
        query = query.where(Notification.status == state)
    else:
        raise InvalidInput(code="invalid_query", field="state", choices=("open", "all") + STATES)
    if item_id is not None:
        query = query.where(Notification.item_id == item_id)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(limit)
                                .execution_options(populate_existing=True)))


def for_item(session: Session, item_id: int) -> list[Notification]:
    """Every message for an item, attempt by attempt: the log of who was told what, and how it went."""
    return list(session.scalars(
        select(Notification).where(Notification.item_id == item_id)
        .order_by(Notification.attempt, Notification.id).execution_options(populate_existing=True)))
