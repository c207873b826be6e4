import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk import accounts, audit, unclaimed
from kiosk.db import session_factory, transaction, unit_of_work
from kiosk.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    KioskError,
    SecondApproverRequired,
)
from kiosk.models import AuditEvent, DisposalRequest, Item, Notification
from kiosk.values import Actor
from tests.conftest import AUDIT_KEY, sealed_verdict

from .desk import NOW, put

H, D = timedelta(hours=1), timedelta(days=1)


def trail(session, item_id):
    return list(session.scalars(select(AuditEvent.event).where(AuditEvent.item_id == item_id)
                                .order_by(AuditEvent.seq)))


# ---------------------------------------------------------------- disposal takes two people

@pytest.fixture
def stale(session, desk, users):
    """A bag whose owner was due a week ago."""
    bag = put(session, desk, users["staff"], ago=10 * D, pickup_in=3 * D)
    session.commit()
    return bag


@pytest.fixture
def second_supervisor(session):
    user = accounts.add_user(session, "supervisor-2", "supervisor")
    session.commit()
    return Actor(name=user.name, role="supervisor", user_id=user.id, device="office")


def test_disposal_is_asked_by_one_and_approved_by_another_supervisor(session, users, stale, second_supervisor):
    request = unclaimed.request_disposal(session, users["staff"], stale.id, "dispose", "mouldy, owner moved out",
                                         now=NOW)
    session.commit()
    assert unclaimed.disposal_requests(session) == [request]
    approved = unclaimed.approve_disposal(session, second_supervisor, request.id, note="checked", now=NOW + H)
    session.commit()
    assert (approved.state, approved.decided_by, approved.decision_note) == ("approved", "supervisor-2", "checked")
    assert (stale.status, stale.released_at, stale.released_by_name) == ("disposed", NOW + H, "supervisor-2")
    assert trail(session, stale.id) == ["deposit", "disposal_requested", "disposed"]
    assert unclaimed.disposal_requests(session) == []
    assert unclaimed.disposal_requests(session, state=None, item_id=stale.id) == [request]


def test_the_one_who_asked_cannot_approve_and_the_attempt_is_on_record(session, users, stale, engine):
    supervisor = users["supervisor"]
    request = unclaimed.request_disposal(session, supervisor, stale.id, "lost_and_found", "unclaimed coat", now=NOW)
    session.commit()
    with pytest.raises(SecondApproverRequired) as error, unit_of_work(session):
        unclaimed.approve_disposal(session, supervisor, request.id, now=NOW + H)
    assert error.value.status == 409 and error.value.code == "second_approver_required"
    assert error.value.params == {"request_id": request.id, "requested_by": "supervisor-1"}
    session.expire_all()
    assert session.get(Item, stale.id).status == "held"
    assert session.get(DisposalRequest, request.id).state == "pending"
    assert trail(session, stale.id) == ["deposit", "disposal_requested", "disposal_refused"]
    # Staff may ask but never approve; the admin (another person) may.
    with pytest.raises(Forbidden) as error:
        unclaimed.approve_disposal(session, users["staff"], request.id, now=NOW + H)
    assert error.value.code == "approver_not_supervisor"
    unclaimed.approve_disposal(session, users["admin"], request.id, now=NOW + 2 * H)
    session.commit()
    assert stale.status == "lost_and_found" and trail(session, stale.id)[-1] == "lost_and_found"
    assert sealed_verdict(session).ok


def test_what_cannot_be_asked(session, desk, users, stale):
    fresh = put(session, desk, users["staff"], ago=H, pickup_in=D)
    parcel = put(session, desk, users["staff"], ago=20 * D, kind="parcel", pickup_in=None)
    staff = users["staff"]
    cases = [
        (lambda: unclaimed.request_disposal(session, staff, stale.id, "burn", "x", now=NOW), "invalid_action"),
        (lambda: unclaimed.request_disposal(session, staff, stale.id, "dispose", " ", now=NOW), "missing_field"),
        (lambda: unclaimed.request_disposal(session, staff, fresh.id, "dispose", "x", now=NOW), "not_overdue"),
        (lambda: unclaimed.request_disposal(session, staff, parcel.id, "dispose", "x", now=NOW),
         "mail_returns_to_post"),
    ]
    for call, code in cases:
        with pytest.raises(KioskError) as error:
            call()
        assert error.value.code == code
    unclaimed.request_disposal(session, staff, stale.id, "dispose", "x", now=NOW)
    with pytest.raises(Conflict) as error:
        unclaimed.request_disposal(session, users["supervisor"], stale.id, "dispose", "y", now=NOW)
    assert error.value.code == "disposal_pending"


def test_a_request_can_be_declined_or_withdrawn_and_is_then_closed(session, users, stale, second_supervisor):
    staff = users["staff"]
    first = unclaimed.request_disposal(session, staff, stale.id, "dispose", "x", now=NOW)
    unclaimed.decline_disposal(session, second_supervisor, first.id, note="owner called back", now=NOW)
    with pytest.raises(Conflict) as error:
        unclaimed.approve_disposal(session, users["supervisor"], first.id, now=NOW)
    assert error.value.code == "disposal_not_pending"
    second = unclaimed.request_disposal(session, staff, stale.id, "dispose", "x", now=NOW)
    with pytest.raises(Forbidden):
        unclaimed.decline_disposal(session, Actor("staff-2", "staff", user_id=999), second.id, now=NOW)
    withdrawn = unclaimed.decline_disposal(session, staff, second.id, now=NOW)
    session.commit()
    assert withdrawn.state == "declined" and stale.status == "held"
    events = session.scalars(select(AuditEvent).where(AuditEvent.event == "disposal_declined")).all()
    assert ['"withdrawn":false' in events[0].details, '"withdrawn":true' in events[1].details] == [True, True]


def test_two_approvers_at_once_dispose_of_the_item_once(engine, session, users, stale, second_supervisor):
    request = unclaimed.request_disposal(session, users["staff"], stale.id, "dispose", "x", now=NOW)
    session.commit()
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    start, results = threading.Barrier(2), []

    def approve(actor):
        start.wait()
        try:
            with transaction(sessions) as own:
                unclaimed.approve_disposal(own, actor, request.id, now=NOW)
            results.append("approved")
        except KioskError as error:
            results.append(error.code)

    threads = [threading.Thread(target=approve, args=(a,)) for a in (second_supervisor, users["admin"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["approved", "disposal_not_pending"]
    assert trail(session, stale.id).count("disposed") == 1


# ---------------------------------------------------------------- notify the owner, through the outbox

def test_a_reminder_goes_into_the_outbox_once_while_it_waits_to_be_sent(session, users, stale):
    with pytest.raises(InvalidInput) as error:
        unclaimed.notify_owner(session, users["supervisor"], stale.id, "pigeon", now=NOW)
    assert error.value.code == "invalid_notify_channel"
    with pytest.raises(InvalidInput) as error:   # luggage has no pickup notice for the mailbox
        unclaimed.notify_owner(session, users["supervisor"], stale.id, "notice_slip", now=NOW)
    assert error.value.params["choices"] == ("sms", "email")
    first = unclaimed.notify_owner(session, users["supervisor"], stale.id, "sms", now=NOW)
    again = unclaimed.notify_owner(session, users["staff"], stale.id, "sms", now=NOW + H)
    assert first.queued and not again.queued and again.message.id == first.message.id
    message = first.message
    assert (message.channel, message.address, message.template, message.status) == (
        "sms", stale.owner_phone, "item_reminder", "queued")
    assert trail(session, stale.id).count("notify_requested") == 1
    message.status = "sent"          # the worker sent it: the next reminder is a new message
    assert unclaimed.notify_owner(session, users["supervisor"], stale.id, "sms", now=NOW + 2 * H).queued
    with pytest.raises(InvalidInput) as error:
        unclaimed.notify_owner(session, users["supervisor"], stale.id, "email", now=NOW)
    assert error.value.code == "no_owner_address"


def test_the_item_reminder_names_the_item_and_never_a_code():
    from notifying import wording

    params = {"ticket_no": "A-0007", "kind": "luggage", "mail_class": None, "name": "张伟", "unit": "12-0301",
              "received_at": NOW.isoformat()}
    for locale, item in (("zh_Hans", "行李"), ("en", "luggage")):
        words = wording.render("item_reminder", locale, params, code="K1S-SECRET")
        assert item in words.text and "A-0007" in words.text and "K1S-SECRET" not in words.text + words.subject


def test_two_reminders_at_once_queue_one_message(engine, session, users, stale):
    """Two supervisors press the button at the same moment: the item's row lock makes the second
    find the first's message (on SQLite the database lock does the same)."""
    session.commit()
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    sessions.configure(info=dict(session.info))     # whatever the test's sessions carry (an audit key)
    start, results = threading.Barrier(2), []

    def remind(actor):
        start.wait()
        with transaction(sessions) as own:
            done = unclaimed.notify_owner(own, actor, stale.id, "sms", now=NOW)
            results.append((done.queued, done.message.id))

    threads = [threading.Thread(target=remind, args=(users[role],)) for role in ("supervisor", "admin")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(queued for queued, _ in results) == [False, True]
    assert len({message_id for _, message_id in results}) == 1
    assert session.scalars(select(Notification.id).where(Notification.item_id == stale.id)).all() == [results[0][1]]
    assert trail(session, stale.id).count("notify_requested") == 1
