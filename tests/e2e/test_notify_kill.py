"""kill -9 at the worst moment: the worker process dies after the receiver has the message,
before the worker could mark it sent.

A real `kiosk notify-worker --once` subprocess sends to a real loopback receiver,
which kills the worker (SIGKILL) as soon as the message has arrived and before it
answers. The next pass must not deliver the message twice: the SMS gateway gets it
again under the same idempotency key and drops the repeat; the email is marked in
doubt for staff, never sent again.
"""
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk import mail, outbox, residents
from kiosk.db import session_factory, unit_of_work
from kiosk.models import Notification
from kiosk.values import MailForm, ResidentForm
from tests.conftest import AUDIT_KEY, TEST_SECRET
from web.auth import desk as desk_of
from web.notify_worker import run_once, senders_from_config

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def parcel_for(app, engine, users, *, email: str | None) -> int:
    with session_factory(engine, audit_key=AUDIT_KEY)() as session, unit_of_work(session):
        residents.add(session, users["admin"], ResidentForm("12-0301", "张伟", "13812345678", email=email))
        return mail.intake(session, desk_of(app), users["staff"], MailForm(
            kind="parcel", unit="12-0301", name="张伟", carrier="EMS", mail_class="express")).item.id


def worker_process(database_url, tmp_path, **urls) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KIOSK_")}
    env.update(PYTHONPATH=str(ROOT), KIOSK_DATABASE_URL=database_url, KIOSK_SECRET_KEY=TEST_SECRET,
               KIOSK_INSTANCE_PATH=str(tmp_path / "worker"), **urls)
    return subprocess.Popen([sys.executable, "-m", "web.cli", "notify-worker", "--once"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def killed_mid_send(process: subprocess.Popen) -> None:
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, (out, err)


def the_message(engine, item_id, channel) -> Notification:
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        return next(m for m in outbox.for_item(session, item_id) if m.channel == channel)


def test_a_text_message_in_doubt_is_resent_under_its_key_and_delivered_once(app, engine, database_url, users,
                                                                            gateway, tmp_path):
    item_id = parcel_for(app, engine, users, email=None)
    victim = {}
    gateway.on_request = lambda: victim["process"].send_signal(signal.SIGKILL)
    victim["process"] = worker_process(database_url, tmp_path, KIOSK_SMS_WEBHOOK_URL=gateway.url)
    killed_mid_send(victim["process"])
    assert len(gateway.requests) == 1
    assert the_message(engine, item_id, "sms").status == "sending"     # past the point of no return, unmarked

    gateway.on_request = None
    app.extensions["kiosk.senders"] = senders_from_config({"SMS_WEBHOOK_URL": gateway.url})
    done = run_once(app, now=datetime.now(UTC) + outbox.LEASE + timedelta(seconds=1))
    message = the_message(engine, item_id, "sms")
    assert done.sent == [message.id] and message.status == "sent" and message.tries == 2
    assert [r["key"] for r in gateway.requests] == [message.idempotency_key] * 2
    assert list(gateway.delivered) == [message.idempotency_key]          # the owner got one text


def test_an_email_in_doubt_is_kept_for_staff_and_never_sent_twice(app, engine, database_url, users, smtp_server,
                                                                 tmp_path):
    item_id = parcel_for(app, engine, users, email="zhang.wei@example.com")
    victim = {}
    smtp_server.on_data = lambda: victim["process"].send_signal(signal.SIGKILL)
    victim["process"] = worker_process(database_url, tmp_path, KIOSK_SMTP_URL=smtp_server.url)
    killed_mid_send(victim["process"])
    assert len(smtp_server.messages) == 1
    assert the_message(engine, item_id, "email").status == "sending"

    smtp_server.on_data = None
    app.extensions["kiosk.senders"] = senders_from_config({"SMTP_URL": smtp_server.url})
    later = datetime.now(UTC) + outbox.LEASE + timedelta(seconds=1)
    done = run_once(app, now=later)
    assert done.sent == [] and run_once(app, now=later + timedelta(minutes=5)).sent == []
    message = the_message(engine, item_id, "email")
    assert (message.status, message.last_error_code) == ("in_doubt", "worker_lost")
    assert len(smtp_server.messages) == 1                                 # not re-sent
    assert smtp_server.messages[0]["X-Kiosk-Idempotency-Key"] == message.idempotency_key

    # Staff check the mail server's log for the Message-ID and settle it.
    with session_factory(engine, audit_key=AUDIT_KEY)() as session, unit_of_work(session):
        outbox.review(session, users["staff"], message.id, "delivered", note="in the server log")
    assert the_message(engine, item_id, "email").status == "sent"
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        assert session.scalars(select(Notification).where(Notification.status == "in_doubt")).all() == []
