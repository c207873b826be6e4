import threading
from datetime import UTC, datetime, timedelta

import pytest

from kiosk import accounts, enrolment
from kiosk.errors import InvalidInput


def test_a_link_is_spent_once_and_gives_a_device_token(session):
    secret = enrolment.invite(session, " lobby-1 ")
    assert secret.startswith("ke_")
    assert enrolment.pending(session, secret).device == "lobby-1"
    device, token = enrolment.redeem(session, secret)
    assert device == "lobby-1"
    assert accounts.authenticate(session, token).device == "lobby-1"
    assert enrolment.pending(session, secret) is None
    assert enrolment.redeem(session, secret) is None
    assert enrolment.redeem(session, "ke_" + "x" * 43) is None


def test_a_link_expires(session):
    t0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
    secret = enrolment.invite(session, "lobby-1", now=t0)
    assert enrolment.pending(session, secret, now=t0 + timedelta(hours=23)) is not None
    assert enrolment.redeem(session, secret, now=t0 + timedelta(hours=24)) is None


def test_withdrawing_a_device_revokes_its_browsers_tokens_and_unused_links(session):
    used = enrolment.invite(session, "lobby-1")
    _, browser = enrolment.redeem(session, used)
    bearer = accounts.create_token(session, device="lobby-1")
    unused = enrolment.invite(session, "lobby-1")
    other = accounts.create_token(session, device="lobby-2")
    assert enrolment.withdraw(session, "lobby-1") == 2
    assert accounts.authenticate(session, browser) is None and accounts.authenticate(session, bearer) is None
    assert enrolment.redeem(session, unused) is None
    assert accounts.authenticate(session, other) is not None


def test_a_device_needs_a_name(session):
    with pytest.raises(InvalidInput):
        enrolment.invite(session, "  ")


def test_two_browsers_opening_one_link_at_once_get_one_token(app):
    sessions = app.extensions["kiosk.sessions"]
    with sessions() as session:
        secret = enrolment.invite(session, "lobby-1")
        session.commit()
    start, results = threading.Barrier(4), []

    def open_link():
        with sessions() as session:
            start.wait()
            results.append(enrolment.redeem(session, secret))
            session.commit()

    threads = [threading.Thread(target=open_link) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([r for r in results if r is not None]) == 1
