from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk import contacts
from kiosk.contacts import next_contact
from kiosk.db import unit_of_work
from kiosk.errors import InvalidInput, NotFound, NotHeld
from kiosk.models import AuditEvent, Item, ItemContact

from .desk import NOW, SHANGHAI, put

H, D = timedelta(hours=1), timedelta(days=1)


# ---------------------------------------------------------------- the log

def test_an_attempt_is_logged_with_who_how_when_and_what_came_of_it(session, desk, users):
    parcel = put(session, desk, users["staff"], ago=2 * H, kind="parcel", pickup_in=None)
    first = contacts.log_contact(session, users["staff"], parcel.id, method="phone", outcome="no_answer",
                                 at=NOW - H, note="  rang twice ", now=NOW)
    assert parcel.owner_reached_at is None
    second = contacts.log_contact(session, users["supervisor"], parcel.id, method="phone",
                                  outcome="promised_pickup", promised_at=NOW + 3 * H, now=NOW)
    # The item remembers when its owner was last reached; a back-dated answer does not move it back.
    assert parcel.owner_reached_at == NOW
    contacts.log_contact(session, users["staff"], parcel.id, method="visit", outcome="reached", at=NOW - H / 2,
                         now=NOW)
    assert parcel.owner_reached_at == NOW
    session.commit()
    log = contacts.contacts_for(session, parcel.id)
    assert [(c.method, c.outcome, c.staff_name, c.at) for c in log] == [
        ("phone", "no_answer", "staff-1", NOW - H), ("visit", "reached", "staff-1", NOW - H / 2),
        ("phone", "promised_pickup", "supervisor-1", NOW)]
    assert first.note == "rang twice" and first.logged_at == NOW and second.promised_at == NOW + 3 * H
    trail = session.scalars(select(AuditEvent).where(AuditEvent.event == "contact")).all()
    assert [e.actor for e in trail] == ["staff-1", "supervisor-1", "staff-1"]
    assert '"outcome":"no_answer"' in trail[0].details and "rang twice" not in trail[0].details
    batch = contacts.contacts_by_item(session, [parcel.id, 999])
    assert [(c.id, c.at, c.outcome, c.staff_name) for c in batch[parcel.id]] == [
        (c.id, c.at, c.outcome, c.staff_name) for c in log] and batch[999] == []


@pytest.mark.parametrize("kwargs, field, code", [
    (dict(method="fax", outcome="reached"), "method", "invalid_method"),
    (dict(method="notice_slip", outcome="reached"), "outcome", "invalid_outcome"),
    (dict(method="visit", outcome="wrong_number"), "outcome", "invalid_outcome"),
    (dict(method="phone", outcome="promised_pickup"), "promised_at", "missing_field"),
    (dict(method="phone", outcome="promised_pickup", promised_at=NOW - H), "promised_at", "time_in_past"),
    (dict(method="phone", outcome="reached", promised_at=NOW + H), "promised_at", "unexpected_field"),
    (dict(method="phone", outcome="reached", at=NOW + H), "at", "time_in_future"),
    (dict(method="phone", outcome="reached", at=NOW - 3 * H), "at", "before_deposit"),
    (dict(method="phone", outcome="reached", at=datetime(2026, 11, 22, 9)), "at", "invalid_time"),
    (dict(method="phone", outcome="reached", note="x" * 501), "note", "too_long"),
])
def test_what_cannot_be_logged(session, desk, users, kwargs, field, code):
    parcel = put(session, desk, users["staff"], ago=2 * H, kind="parcel", pickup_in=None)
    with pytest.raises(InvalidInput) as error:
        contacts.log_contact(session, users["staff"], parcel.id, now=NOW, **kwargs)
    assert (error.value.field, error.value.code) == (field, code)


def test_only_held_items_are_followed_up(session, desk, users):
    item = put(session, desk, users["staff"], ago=2 * H)
    item.status = "released"
    session.commit()
    with pytest.raises(NotHeld) as error, unit_of_work(session):
        contacts.log_contact(session, users["staff"], item.id, method="phone", outcome="reached", now=NOW)
    assert error.value.params == {"ticket_no": item.ticket_no, "state": "released"}
    with pytest.raises(NotFound):
        contacts.contacts_for(session, 404)
    assert session.scalars(select(ItemContact)).all() == []


# ---------------------------------------------------------------- when to try next (pure)

def item(kind="parcel", *, deposited=NOW - 2 * H, expected=None, size="small", urgent=False, status="held"):
    return Item(kind=kind, deposited_at=deposited, expected_pickup_at=expected, size=size, urgent=urgent,
                status=status)


def attempt(at, outcome="no_answer", method="phone", promised_at=None, id=None):
    return ItemContact(at=at, outcome=outcome, method=method, promised_at=promised_at, id=id)


def due(thing, attempts=(), now=NOW, **kw):
    return next_contact(thing, list(attempts), now=now, tz=SHANGHAI, **kw)


def test_first_contact_is_at_arrival_for_mail_at_pickup_time_for_the_rest():
    assert due(item()) == contacts.NextContact(NOW - 2 * H, "first_notice", ("phone", "sms"), late=True)
    luggage = due(item("luggage", expected=NOW + H))
    assert (luggage.due_at, luggage.reason, luggage.late) == (NOW + H, "pickup_time_passed", False)
    assert due(item("short_term", deposited=NOW - D)).reason == "long_stay"
    assert due(item("short_term", deposited=NOW - D)).due_at == NOW + 6 * D
    assert due(item("key")) is None
    assert due(item(status="released")) is None


def test_unanswered_ordinary_owners_are_tried_again_the_next_morning():
    # 18:00 in Shanghai -> 09:00 the next day, 01:00 UTC.
    assert due(item(), [attempt(NOW)]).due_at == datetime(2026, 11, 23, 1, tzinfo=UTC)
    # Either side of local midnight: "the next day" is the next calendar day at the desk.
    before_midnight = datetime(2026, 11, 22, 15, 59, tzinfo=UTC)    # 23:59
    after_midnight = datetime(2026, 11, 22, 16, 1, tzinfo=UTC)      # 00:01 on the 23rd
    assert due(item(), [attempt(before_midnight)]).due_at == datetime(2026, 11, 23, 1, tzinfo=UTC)
    assert due(item(), [attempt(after_midnight)]).due_at == datetime(2026, 11, 24, 1, tzinfo=UTC)
    three = [attempt(NOW - 3 * H), attempt(NOW - 2 * H, "left_message", "sms"), attempt(NOW - H)]
    assert due(item(), three).methods == ("notice_slip", "visit")
    assert due(item(), three[1:]).methods == ("phone", "sms")


def test_outcomes_decide_what_comes_next():
    reached = due(item(), [attempt(NOW - H, "no_answer"), attempt(NOW, "reached")])
    assert (reached.reason, reached.due_at) == ("follow_up", datetime(2026, 11, 23, 1, tzinfo=UTC))
    # Reached before the pickup time: nothing to chase until then.
    early = due(item("luggage", expected=NOW + 3 * D), [attempt(NOW, "reached")])
    assert early.due_at == NOW + 3 * D
    promised = due(item(), [attempt(NOW, "promised_pickup", promised_at=NOW + 5 * H)])
    assert (promised.reason, promised.due_at, promised.late) == ("promised_pickup_passed", NOW + 5 * H, False)
    wrong = due(item(), [attempt(NOW - H, "wrong_number")])
    assert (wrong.reason, wrong.due_at, wrong.methods, wrong.late) == (
        "find_another_way", NOW - H, ("visit", "notice_slip"), True)
    # Attempts come in any order; the latest one counts (ties: the later id).
    shuffled = [attempt(NOW, "reached", id=2), attempt(NOW - H, "wrong_number", id=1),
                attempt(NOW, "promised_pickup", promised_at=NOW + H, id=3)]
    assert due(item(), shuffled).reason == "promised_pickup_passed"


def test_express_items_follow_the_express_schedule_hook():
    express = item("mail", urgent=True)
    assert due(express).due_at == NOW - 2 * H
    stand_in = due(express, [attempt(NOW - 90 * timedelta(minutes=1)), attempt(NOW - timedelta(minutes=30))])
    assert (stand_in.reason, stand_in.due_at) == ("express_retry", NOW + timedelta(minutes=30))
    seen = []

    def schedule(intake, unanswered, now, tz):
        seen.append((intake, list(unanswered), now, tz))
        return now + timedelta(minutes=7)

    after_reach = [attempt(NOW - 2 * H, "reached"), attempt(NOW - H), attempt(NOW - timedelta(minutes=5))]
    assert due(express, after_reach, express_schedule=schedule).due_at == NOW + timedelta(minutes=7)
    # Only the attempts since the owner was last reached count as unanswered.
    assert seen == [(NOW - 2 * H, [NOW - H, NOW - timedelta(minutes=5)], NOW, SHANGHAI)]
    assert due(item("parcel", urgent=False), [attempt(NOW)], express_schedule=schedule).reason == "retry"


def test_the_express_schedule_is_the_desks_calling_hours():
    """NOW is 18:00 in Shanghai: hourly until 19:00, half-hourly until 22:00, then 08:00."""
    express = item("mail", urgent=True)
    evening = due(express, [attempt(NOW + timedelta(hours=1, minutes=10))], now=NOW + timedelta(hours=1, minutes=15))
    assert evening.due_at == NOW + timedelta(hours=1, minutes=40)          # 19:10 → 19:40
    night = due(express, [attempt(NOW + timedelta(hours=3, minutes=50))], now=NOW + 4 * H)
    assert night.due_at.astimezone(SHANGHAI).strftime("%d %H:%M") == "23 08:00"  # 21:50 → next morning
