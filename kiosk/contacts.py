"""The contact log: every attempt to reach an item's owner, and when the next one is due.

DOMAIN: "contact the owner promptly"; "items held far past their collection
date: contact the depositor"; express mail is called again and again until the
owner is reached. A supervisor must see who was called, when, how it went, and
what to do next without asking anyone.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

from sqlalchemy import ARRAY, BigInteger, Row, any_, bindparam, select
from sqlalchemy.orm import Session

from . import audit, ledger, notices, policy
from .errors import InvalidInput, NotHeld
from .models import Item, ItemContact
from .values import Actor

METHODS = ("phone", "sms", "email", "notice_slip", "visit")
# ``left_message``: a voicemail, a text or email sent, a slip in the mailbox, a note on
# the door — something the owner will see, but nobody heard them answer.
OUTCOMES = ("reached", "no_answer", "wrong_number", "promised_pickup", "left_message")
OUTCOMES_BY_METHOD = {
    "phone": ("reached", "no_answer", "wrong_number", "promised_pickup", "left_message"),
    "sms": ("left_message", "reached", "promised_pickup", "wrong_number"),
    "email": ("left_message", "reached", "promised_pickup", "wrong_number"),
    "notice_slip": ("left_message",),
    "visit": ("reached", "no_answer", "promised_pickup", "left_message"),
}
# The owner knows their item is here.
REACHED = ("reached", "promised_pickup")

# The desk's morning round: unanswered owners of ordinary items are tried again the next day.
DESK_MORNING = time(9, 0)
# After this many attempts in a row without an answer, a slip in the mailbox or a visit.
NOTICE_AFTER_UNANSWERED = 3
# A contact logged afterwards ("I called at nine") may be back-dated, never forward-dated.
CLOCK_TOLERANCE = timedelta(minutes=2)


def log_contact(session: Session, actor: Actor, item_id: int, *, method: str, outcome: str, note: str = "",
                promised_at: datetime | None = None, at: datetime | None = None,
                now: datetime | None = None) -> ItemContact:
    """Record one attempt to reach the owner of a held item."""
    now = now or datetime.now(UTC)
    at = at or now
    if method not in METHODS:
        raise InvalidInput(code="invalid_method", field="method", choices=METHODS)
    if outcome not in OUTCOMES_BY_METHOD[method]:
        raise InvalidInput(code="invalid_outcome", field="outcome", choices=OUTCOMES_BY_METHOD[method])
    for field, value in (("at", at), ("promised_at", promised_at)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(code="invalid_time", field=field)
    if at > now + CLOCK_TOLERANCE:
        raise InvalidInput(code="time_in_future", field="at")
    if outcome == "promised_pickup":
        if promised_at is None:
            raise InvalidInput(code="missing_field", field="promised_at")
        if promised_at <= at:
            raise InvalidInput(code="time_in_past", field="promised_at")
    elif promised_at is not None:
        raise InvalidInput(code="unexpected_field", field="promised_at")
    note = (note or "").strip()
    if len(note) > policy.TEXT_LIMITS["note"]:
        raise InvalidInput(code="too_long", field="note", limit=policy.TEXT_LIMITS["note"])

    item = ledger.get_item(session, item_id, lock=True)
    if item.status != "held":
        raise NotHeld(ticket_no=item.ticket_no, state=item.status)
    if at < item.deposited_at:
        raise InvalidInput(code="before_deposit", field="at")
    contact = ItemContact(item_id=item.id, at=at, method=method, outcome=outcome, promised_at=promised_at,
                          note=note, staff_id=actor.user_id, staff_name=actor.name, logged_at=now)
    session.add(contact)
    if outcome in REACHED and (item.owner_reached_at is None or at > item.owner_reached_at):
        item.owner_reached_at = at
    session.flush()
    # The note stays in the log, not in the immutable trail: it may hold more than the trail should keep.
    audit.append(session, "contact", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "contact_id": contact.id, "method": method, "outcome": outcome,
        "at": at, "promised_at": promised_at,
    })
    return contact


def contacts_for(session: Session, item_id: int) -> list[ItemContact]:
    """An item's contact log, oldest first."""
    ledger.get_item(session, item_id)
    return list(session.scalars(
        select(ItemContact).where(ItemContact.item_id == item_id).order_by(ItemContact.at, ItemContact.id)))


def contacts_by_item(session: Session, item_ids: Iterable[int]) -> dict[int, list[Row]]:
    """The contact logs of a batch of items, in one query, as plain rows (no ORM objects: a
    list of ten thousand items is read this way), oldest first."""
    ids = list(item_ids)
    out: dict[int, list[Row]] = {item_id: [] for item_id in ids}
    if not ids:
        return out
    columns = [ItemContact.__table__.c[name] for name in ("id", "item_id", "at", "method", "outcome", "promised_at",
                                                          "staff_name")]
    # PostgreSQL takes the batch as one array parameter: 2,000 placeholders cost more to send
    # and plan than the lookup itself (80 against 120 ms a batch on the bench's data).
    wanted = (ItemContact.item_id == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
              if session.get_bind().dialect.name == "postgresql" else ItemContact.item_id.in_(ids))
    for contact in session.execute(select(*columns).where(wanted)
                                   .order_by(ItemContact.item_id, ItemContact.at, ItemContact.id)):
        out[contact.item_id].append(contact)
    return out


# ---------------------------------------------------------------- when to try again

# (intake time, times of the attempts without an answer so far, now, site time zone) -> next due.
ExpressSchedule = Callable[[datetime, Sequence[datetime], datetime, tzinfo], datetime]


def hourly_until_reached(intake: datetime, unanswered: Sequence[datetime], now: datetime, tz: tzinfo) -> datetime:
    """Stand-in for the express schedule: at intake, then an hour after each unanswered try.

    Kept for tests that want a schedule without calling hours; the desk uses
    ``desk_schedule``.
    """
    return (unanswered[-1] + timedelta(hours=1)) if unanswered else intake


def desk_schedule(intake: datetime, unanswered: Sequence[datetime], now: datetime, tz: tzinfo) -> datetime:
    """The desk's express schedule (issue 13's ``kiosk.notices.next_attempt``): again an hour
    after each unanswered try until 19:00, every half hour until 22:00, from 08:00 the next
    morning; a time already past is now (within calling hours)."""
    return notices.next_attempt(intake, unanswered, now, tz)


EXPRESS_SCHEDULE: ExpressSchedule = desk_schedule


@dataclass(frozen=True)
class NextContact:
    due_at: datetime
    # first_notice, pickup_time_passed, long_stay, retry, express_retry, promised_pickup_passed,
    # follow_up, find_another_way
    reason: str
    methods: tuple[str, ...]
    late: bool


def is_express(item: Item) -> bool:
    return item.urgent and item.kind in policy.NOTICE_KINDS


def _first_due(item: Item) -> tuple[datetime, str] | None:
    """When the owner must first be contacted if the item is still here."""
    if item.kind in policy.NOTICE_KINDS:
        return item.deposited_at, "first_notice"
    if item.expected_pickup_at is not None:
        return item.expected_pickup_at, "pickup_time_passed"
    if item.kind == "key":
        return None    # a key in the cabinet waits for its owner; loans have their own rules
    limit = policy.LARGE_AT_DESK if item.size == "large" else policy.SMALL_AT_DESK
    return item.deposited_at + limit, "long_stay"


def next_morning(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), DESK_MORNING, tzinfo=tz).astimezone(UTC)


def next_contact(item: Item, attempts: Sequence[ItemContact], *, now: datetime, tz: tzinfo,
                 express_schedule: ExpressSchedule | None = None) -> NextContact | None:
    """When and how to try the owner next; None when nothing is due (not held, or a key waiting).

    A pure function of the item's facts, its contact attempts (any order), the time
    and the site's time zone.
    """
    if item.status != "held":
        return None
    first = _first_due(item)

    def due(at: datetime, reason: str, methods: tuple[str, ...] = ("phone", "sms")) -> NextContact:
        return NextContact(due_at=at, reason=reason, methods=methods, late=at <= now)

    if not attempts:
        return due(*first) if first else None
    ordered = sorted(attempts, key=lambda a: (a.at, a.id or 0))
    last = ordered[-1]
    if last.outcome == "promised_pickup":
        return due(last.promised_at, "promised_pickup_passed", ("phone",))
    if last.outcome == "reached":
        follow_up = next_morning(last.at, tz)
        return due(max(follow_up, first[0]) if first else follow_up, "follow_up", ("phone",))
    if last.outcome == "wrong_number":
        return due(last.at, "find_another_way", ("visit", "notice_slip"))
    unanswered = []
    for attempt in reversed(ordered):
        if attempt.outcome in REACHED:
            break
        unanswered.append(attempt.at)
    unanswered.reverse()
    methods = ("notice_slip", "visit") if len(unanswered) >= NOTICE_AFTER_UNANSWERED else ("phone", "sms")
    if is_express(item):
        schedule = express_schedule or EXPRESS_SCHEDULE
        return due(schedule(item.deposited_at, unanswered, now, tz), "express_retry", methods)
    return due(next_morning(last.at, tz), "retry", methods)
