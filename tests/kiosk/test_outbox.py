"""The outbox's states: claim, the point of no return, lapsed leases, fencing, staff review."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk import outbox
from kiosk.db import session_factory
from kiosk.errors import Conflict, InvalidInput
from kiosk.models import AuditEvent, Notification
from tests.conftest import AUDIT_KEY, POSTGRES_URL

NOW = datetime(2026, 11, 22, 6, tzinfo=UTC)
LATER = NOW + outbox.LEASE + timedelta(seconds=1)
CHANNELS = ("email", "sms")


def queue(session, channel="email", **changes):
    values = dict(channel=channel, address="x@example.com" if channel == "email" else "13800000000",
                  template="mail_arrived", locale="zh_Hans", params={"ticket_no": "A-0001"}, now=NOW)
    values.update(changes)
    message = outbox.add(session, **values)
    session.commit()
    return message


def status(session, message_id) -> str:
    session.expire_all()
    return session.get(Notification, message_id).status


def test_claim_send_mark(session):
    message = queue(session)
    claimed = outbox.claim_due(session, channels=CHANNELS, now=NOW)
    assert [(m.id, m.status, m.tries) for m in claimed] == [(message.id, "claimed", 1)]
    assert outbox.claim_due(session, channels=CHANNELS, now=NOW) == []      # leased
    assert outbox.begin_send(session, message.id, 1, now=NOW)
    assert outbox.mark_sent(session, message.id, 1, reference="<abc@kiosk>", now=NOW)
    sent = session.get(Notification, message.id, populate_existing=True)
    assert (sent.status, sent.reference, sent.sent_at) == ("sent", "<abc@kiosk>", NOW)


def test_only_channels_the_worker_can_send_are_claimed(session):
    queue(session, "sms")
    assert outbox.claim_due(session, channels=("email",), now=NOW) == []
    assert len(outbox.claim_due(session, channels=("sms",), now=NOW)) == 1


def test_a_worker_lost_before_the_point_of_no_return_loses_nothing(session):
    message = queue(session)
    outbox.claim_due(session, channels=CHANNELS, now=NOW)
    session.commit()
    again = outbox.claim_due(session, channels=CHANNELS, now=LATER)
    assert [(m.id, m.tries) for m in again] == [(message.id, 2)]
    # The first worker wakes up: its claim is fenced off, it must not send.
    assert not outbox.begin_send(session, message.id, 1, now=LATER)
    assert outbox.begin_send(session, message.id, 2, now=LATER)


def test_an_email_whose_worker_died_past_the_point_of_no_return_is_in_doubt_not_resent(session):
    message = queue(session, "email")
    outbox.claim_due(session, channels=CHANNELS, now=NOW)
    outbox.begin_send(session, message.id, 1, now=NOW)
    session.commit()
    assert outbox.claim_due(session, channels=CHANNELS, resend_safe=("sms",), now=LATER) == []
    doubtful = session.get(Notification, message.id, populate_existing=True)
    assert (doubtful.status, doubtful.last_error_code) == ("in_doubt", "worker_lost")
    # ...unless the worker was only slow, and its own answer settles the doubt.
    assert outbox.mark_sent(session, message.id, 1, now=LATER)


def test_a_resend_safe_message_goes_again_under_the_same_key(session):
    message = queue(session, "sms")
    outbox.claim_due(session, channels=CHANNELS, resend_safe=("sms",), now=NOW)
    outbox.begin_send(session, message.id, 1, now=NOW)
    session.commit()
    again = outbox.claim_due(session, channels=CHANNELS, resend_safe=("sms",), now=LATER)
    assert [(m.id, m.idempotency_key, m.tries) for m in again] == [(message.id, message.idempotency_key, 2)]


def test_failures_retry_with_backoff_or_wait_for_staff(session, users):
    message = queue(session)
    outbox.claim_due(session, channels=CHANNELS, now=NOW)
    retry_at = outbox.mark_retry(session, message.id, 1, "smtp_unavailable", "connection refused", now=NOW)
    assert retry_at > NOW and status(session, message.id) == "queued"
    assert outbox.claim_due(session, channels=CHANNELS, now=NOW) == []
    outbox.claim_due(session, channels=CHANNELS, now=retry_at)
    outbox.mark_failed(session, message.id, 2, "recipient_refused", "550 no such user")
    assert status(session, message.id) == "failed"
    with pytest.raises(InvalidInput):
        outbox.review(session, users["staff"], message.id, "shrug")
    reviewed = outbox.review(session, users["staff"], message.id, "resend", note="address fixed", now=NOW)
    assert (reviewed.status, reviewed.reviewed_by) == ("queued", "staff-1")
    with pytest.raises(Conflict):
        outbox.review(session, users["staff"], message.id, "delivered")
    event = session.scalars(select(AuditEvent).where(AuditEvent.event == "notification_reviewed")).one()
    assert '"outcome":"resend"' in event.details and message.idempotency_key in event.details


def test_listing_for_staff(session):
    first, second = queue(session), queue(session, "sms")
    outbox.claim_due(session, channels=("sms",), now=NOW)
    outbox.mark_sent(session, second.id, 1, now=NOW)
    assert [m.id for m in outbox.list_messages(session)] == [first.id]
    assert [m.id for m in outbox.list_messages(session, state="sent")] == [second.id]
    with pytest.raises(InvalidInput):
        outbox.list_messages(session, state="lost")


@pytest.mark.skipif(not POSTGRES_URL, reason="SKIP LOCKED needs PostgreSQL")
def test_concurrent_workers_never_claim_the_same_message(engine):
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    with sessions() as session:
        ids = {queue(session).id for _ in range(40)}
    barrier, taken, lock = threading.Barrier(4), [], threading.Lock()

    def worker():
        with sessions() as session:
            barrier.wait()
            while True:
                got = [m.id for m in outbox.claim_due(session, channels=CHANNELS, now=NOW, limit=3)]
                session.commit()
                if not got:
                    return
                with lock:
                    taken.extend(got)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(taken) == sorted(ids)
