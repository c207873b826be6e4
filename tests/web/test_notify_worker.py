"""The notify worker against a real SMTP server and SMS gateway on loopback."""
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from kiosk import loans, mail, outbox, residents
from kiosk.db import session_factory, unit_of_work
from kiosk.models import Alert, Notification, PrintJob
from kiosk.values import Borrower, Consent, KeyDeposit, LoanForm, MailForm, Person, ResidentForm
from printing.escpos_reader import qr_payloads
from tests.printing.conftest import LoopbackPrinter
from tests.printing.escpos_helpers import part_text, split_parts
from web import ConfigError, create_app
from web.auth import desk as desk_of
from web.notify_worker import run_once, senders_from_config
from tests.conftest import AUDIT_KEY


def local(hour: int, minute: int = 0, day: int = 22) -> datetime:
    """Shanghai wall-clock time (the app's default KIOSK_TIMEZONE), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def wired(app, smtp_server, gateway):
    app.extensions["kiosk.senders"] = senders_from_config(
        {"SMTP_URL": smtp_server.url, "SMS_WEBHOOK_URL": gateway.url})
    return app


@pytest.fixture
def db(engine):
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        yield session


def take_in(app, db, users, when, **changes):
    if residents.find(db, "12-0301", "张伟") is None:
        residents.add(db, users["admin"], ResidentForm("12-0301", "张伟", "13812345678",
                                                       email="zhang.wei@example.com"), now=when)
    form = dict(kind="parcel", unit="12-0301", name="张伟", carrier="EMS", mail_class="express")
    form.update(changes)
    with unit_of_work(db):
        result = mail.intake(db, desk_of(app), users["staff"], MailForm(**form), now=when)
    # Plain values: touching an expired ORM object later would open a transaction (on SQLite, the write lock).
    return SimpleNamespace(item_id=result.item.id, tag_code=result.deposit.tag_code,
                           claim_code=result.deposit.claim_code)


def messages(db, item_id) -> list[SimpleNamespace]:
    """Copies of the item's messages, read without holding the database: on SQLite every
    transaction takes the one write lock the worker needs."""
    rows = [SimpleNamespace(**{c.key: getattr(m, c.key) for c in Notification.__table__.columns})
            for m in outbox.for_item(db, item_id)]
    db.rollback()
    return rows


def statuses(db, item_id) -> list[tuple[int, str, str]]:
    return [(m.attempt, m.channel, m.status) for m in messages(db, item_id)]


def test_the_owner_gets_an_email_and_a_text_with_a_pickup_code_that_works(wired, db, users, smtp_server, gateway):
    result = take_in(wired, db, users, local(14, 20))
    done = run_once(wired, now=local(14, 20))
    assert len(done.sent) == 2
    [email] = smtp_server.wait_for()
    assert email["Subject"] == "【前台】您有快件待领取（A-0001）"
    assert "K1P-" in email.get_content() and result.claim_code in email.get_content()
    [sms] = gateway.requests
    assert sms["body"]["to"] == "13812345678" and result.claim_code in sms["body"]["text"]
    sent = {m.channel: m for m in messages(db, result.item_id)}
    assert sent["email"].reference == f"<{sent['email'].idempotency_key}@kiosk.test>"
    assert sent["sms"].reference == f"sms-{sent['sms'].idempotency_key[:8]}"
    assert sms["key"] == sent["sms"].idempotency_key
    # The code in the message is the pickup half: it hands the parcel out.
    with unit_of_work(db):
        mail.pickup(db, desk_of(wired), users["staff"], result.item_id, tag_code=result.tag_code,
                    pickup_code=result.claim_code, signature="张伟", now=local(15))
    assert run_once(wired, now=local(15, 20)).reminders == 0


def test_express_reminders_go_out_on_schedule_until_collected(wired, db, users, smtp_server, gateway):
    result = take_in(wired, db, users, local(18, 10))
    run_once(wired, now=local(18, 10))
    assert run_once(wired, now=local(18, 59)).reminders == 0
    done = run_once(wired, now=local(19))
    assert done.reminders == 1 and len(done.sent) == 2
    smtp_server.wait_for(2)
    assert smtp_server.messages[1]["Subject"] == "【前台】提醒：您的快件仍待领取（A-0001）"
    assert statuses(db, result.item_id) == [(0, "sms", "sent"), (0, "email", "sent"),
                                            (1, "sms", "sent"), (1, "email", "sent")]
    with unit_of_work(db):
        mail.pickup(db, desk_of(wired), users["staff"], result.item_id, tag_code=result.tag_code,
                    pickup_code=result.claim_code, signature="张伟", now=local(19, 10))
    assert run_once(wired, now=local(19, 30)).reminders == 0
    assert len(smtp_server.messages) == 2


@pytest.fixture
def loopback_printer():
    printer = LoopbackPrinter()
    yield printer
    printer.close()


def test_the_days_last_call_puts_a_notice_in_the_mailbox(wired, db, users, loopback_printer):
    wired.config["PRINTERS"] = {"default": loopback_printer.url}
    result = take_in(wired, db, users, local(21, 20))
    run_once(wired, now=local(21, 20))
    done = run_once(wired, now=local(21, 50))          # the next, 22:20, would be too late: the day's last
    assert done.reminders == 1
    slip = [m for m in messages(db, result.item_id) if m.channel == "slip"]
    assert [(m.status, m.attempt) for m in slip] == [("sent", 1)]
    job = db.scalars(select(PrintJob)).one()
    job_id, job_part, job_item = job.id, job.part, job.item_id
    db.rollback()
    assert (job_part, job_item, slip[0].reference) == ("notice", result.item_id, f"print-job:{job_id}")
    from web.print_worker import run_once as print_once

    assert print_once(wired).printed == [job_id]
    [notice] = split_parts(loopback_printer.wait_for_job())      # the notice alone, not the tag
    assert qr_payloads(notice) == [result.claim_code]
    assert "邮件接收通知单" in part_text(notice)


def test_an_smtp_server_that_is_down_gets_the_message_when_it_is_back(app, db, users, smtp_server):
    app.extensions["kiosk.senders"] = senders_from_config({"SMTP_URL": "smtp://127.0.0.1:9?timeout=1"})
    result = take_in(app, db, users, local(10))
    done = run_once(app, now=local(10))
    assert len(done.retrying) == 1
    email = next(m for m in messages(db, result.item_id) if m.channel == "email")
    assert (email.status, email.last_error_code) == ("queued", "smtp_unavailable")
    app.extensions["kiosk.senders"] = senders_from_config({"SMTP_URL": smtp_server.url})
    assert len(run_once(app, now=local(10, 1)).sent) == 1
    assert len(smtp_server.wait_for()) == 1
    # the text message waits for a gateway to be configured
    assert ("sms", "queued") in {(m.channel, m.status) for m in messages(db, result.item_id)}


def test_a_refused_address_waits_for_staff(wired, db, users, smtp_server):
    smtp_server.refuse_recipients.add("zhang.wei@example.com")
    result = take_in(wired, db, users, local(10))
    assert len(run_once(wired, now=local(10)).failed) == 1
    assert (0, "email", "failed") in statuses(db, result.item_id)
    assert [m.channel for m in outbox.list_messages(db)] == ["email"]


def test_the_worker_raises_key_alerts(wired, db, users):
    the_desk = desk_of(wired)
    with unit_of_work(db):
        key = loans.deposit_key(db, the_desk, users["staff"], KeyDeposit(
            owner=Person("5-2201", "陈静", "13611112222"), consent=Consent("陈静", "signature"),
            handed_over=False), now=local(9))
        loans.lend(db, the_desk, users["staff"], key.item.id, LoanForm(
            borrower=Borrower("王师傅", "13900001111", "安居维修"), purpose="repair", due_back_at=local(12)),
            now=local(10))
    assert run_once(wired, now=local(12, 5)).alerts == 1
    assert [a.kind for a in db.scalars(select(Alert))] == ["key_loan_overdue"]


def test_notification_urls_are_read_when_the_app_is_made(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("KIOSK_SMTP_URL", "smtp://mail.example.com:2525?from=desk@example.com")
    monkeypatch.setenv("KIOSK_SMS_WEBHOOK_URL", "https://sms.example.com/send")
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})
    assert sorted(app.extensions["kiosk.senders"]) == ["email", "sms"]
    app.extensions["kiosk.engine"].dispose()
    monkeypatch.setenv("KIOSK_SMTP_URL", "mail.example.com")
    with pytest.raises(ConfigError):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})


def test_messages_for_an_item_are_in_the_database_only_with_the_item(wired, db, users):
    # A refused intake leaves no message behind to be sent.
    with pytest.raises(Exception):
        take_in(wired, db, users, local(10), name="不住这里")
    assert db.scalars(select(Notification)).all() == []
