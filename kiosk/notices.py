"""Telling owners that mail is waiting, on the desk's schedule.

DOMAIN "Mail and parcels": express items (快件, 挂号信, 包裹单, 汇款单) are urgent.
Call the owner at once; if not reached, again every hour until 19:00, then every
half hour until 22:00, or put a written pickup notice (《邮件接收通知单》) in the
mailbox; not delivered today, continue the next day until delivered.

``next_attempt`` is that schedule as a pure function. ``start`` queues the
notice at intake; ``queue_due`` (the notify worker, every pass) queues each
reminder that has fallen due, in one transaction with the item's next time.
Every attempt is a set of outbox rows (one per channel) with the attempt's
number: the log of each attempt and its result, shown on the item.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import outbox, residents
from .models import Item, Notification

# Nobody is called before 08:00 ("from the next morning") or after 22:00.
DAY_STARTS = time(8, 0)
HOURLY_UNTIL = time(19, 0)
CALLS_END = time(22, 0)
HOUR = timedelta(hours=1)
HALF_HOUR = timedelta(minutes=30)

FIRST = "mail_arrived"
REMINDER = "mail_reminder"
SLIP = "mail_notice_slip"


def _at(day, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def within_calling_hours(when: datetime, zone: ZoneInfo) -> datetime:
    """``when``, or 08:00 of that morning (before 08:00) or of the next (after 22:00)."""
    local = when.astimezone(zone)
    if local.time() < DAY_STARTS:
        return _at(local.date(), DAY_STARTS, zone)
    if local.time() > CALLS_END:
        return _at(local.date() + timedelta(days=1), DAY_STARTS, zone)
    return when.astimezone(UTC)


def _after(last: datetime, zone: ZoneInfo) -> datetime:
    local = last.astimezone(zone)
    if local.time() >= HOURLY_UNTIL:
        return last + HALF_HOUR
    # Hourly before 19:00, but the half-hourly evening starts at 19:00 sharp:
    # a call at 18:10 is followed at 19:00, one at 18:50 at 19:20.
    evening = _at(local.date(), HOURLY_UNTIL, zone)
    return min(last + HOUR, max(last + HALF_HOUR, evening))


def next_attempt(received_at: datetime, attempts: Sequence[datetime], now: datetime, zone: ZoneInfo | str) -> datetime:
    """When the owner of an express item received at ``received_at`` is next to be notified,
    given the times of the ``attempts`` made so far.

    The first attempt is at intake; then hourly until 19:00 and half-hourly until
    22:00 (the step follows the last attempt, times are UTC so a DST change does
    not stretch an hour); a time after 22:00 moves to 08:00 the next morning, and
    the day's schedule starts again from there. A time already past ``now`` (a
    worker that was down) becomes ``now`` — one catch-up attempt, not a burst —
    unless ``now`` is outside calling hours. Always an aware UTC datetime.
    """
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    due = _after(max(attempts), zone) if attempts else received_at
    due = within_calling_hours(due, zone)
    if due < now:
        due = within_calling_hours(now, zone)
    return due


def is_last_of_day(when: datetime, following: datetime, zone: ZoneInfo) -> bool:
    return following.astimezone(zone).date() != when.astimezone(zone).date()


def _channels(item: Item) -> list[tuple[str, str]]:
    found = [("sms", item.owner_phone)] if item.owner_phone else []
    if item.owner_email:
        found.append(("email", item.owner_email))
    return found


def notice_params(item: Item, attempt: int) -> dict:
    """What a notice about ``item`` says (the outbox row's parameters; the wording fills them in)."""
    return {
        "ticket_no": item.ticket_no, "kind": item.kind, "mail_class": item.mail_class, "carrier": item.carrier,
        "unit": item.owner_unit, "name": item.owner_name, "received_at": item.deposited_at.isoformat(),
        "perishable": item.perishable, "urgent": item.urgent, "attempt": attempt,
    }


def owner_locale(session: Session, item: Item) -> str:
    """The language of the owner's notices: the resident's choice, else zh-Hans."""
    resident = residents.find(session, item.owner_unit, item.owner_name)
    return resident.locale if resident is not None else "zh_Hans"


def notify(session: Session, item: Item, attempt: int, now: datetime, *, slip: bool = False,
           locale: str | None = None) -> list[Notification]:
    """Queue attempt number ``attempt`` to the owner: a text message, an email if the owner
    gave an address, and (``slip``) a pickup notice printed for the mailbox."""
    locale = locale or owner_locale(session, item)
    template = FIRST if attempt == 0 else REMINDER
    params = notice_params(item, attempt)
    messages = [outbox.add(session, item_id=item.id, channel=channel, address=address, template=template,
                           locale=locale, params=params, attempt=attempt, now=now)
                for channel, address in _channels(item)]
    if slip:
        messages.append(outbox.add(session, item_id=item.id, channel="slip", address=item.owner_unit,
                                   template=SLIP, locale=locale, params=params, attempt=attempt, now=now))
    return messages


def start(session: Session, item: Item, zone: ZoneInfo, now: datetime, *, locale: str) -> list[Notification]:
    """At intake: notify now; express items keep a time for the next reminder."""
    messages = notify(session, item, 0, now, locale=locale)
    item.next_notify_at = next_attempt(item.deposited_at, [now], now, zone) if item.urgent else None
    return messages


def attempt_times(session: Session, item_id: int) -> list[datetime]:
    return list(session.scalars(
        select(func.min(Notification.created_at)).where(Notification.item_id == item_id)
        .group_by(Notification.attempt).order_by(Notification.attempt)))


def queue_due(session: Session, zone: ZoneInfo, now: datetime | None = None, limit: int = 50) -> list[Item]:
    """Queue every reminder that has fallen due; the caller commits. Items are locked
    (SKIP LOCKED) so two workers never queue the same attempt twice."""
    now = now or datetime.now(UTC)
    items = list(session.scalars(
        select(Item).where(Item.status == "held", Item.next_notify_at <= now)
        .order_by(Item.next_notify_at, Item.id).limit(limit)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)))
    for item in items:
        times = attempt_times(session, item.id)
        attempt = len(times)
        following = next_attempt(item.deposited_at, [*times, now], now, zone)
        # The day's calls are over and the item is still here: a written notice for the mailbox too.
        last_of_day = is_last_of_day(now, following, zone)
        outbox.supersede(session, item.id, attempt)
        notify(session, item, attempt, now, slip=last_of_day)
        item.next_notify_at = following
    session.flush()
    return items
