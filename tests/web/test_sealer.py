"""The sealer's passes (web/sealer.py): on a busy ledger it seals what an interval brought in one
pass, not each row as it commits (each pass costs the sealer and the database the same few
statements however few rows it seals)."""
import threading
import time

from sqlalchemy import func, select

from kiosk import audit
from kiosk.models import AuditSeal
from kiosk.values import Actor
from web.sealer import BATCH, Sealer

STAFF = Actor(name="staff-1", role="staff", user_id=1)


def test_a_busy_sealer_seals_an_interval_of_rows_per_pass(app, sessions):
    stop = threading.Event()
    sealer = threading.Thread(target=Sealer(app, interval=0.25).run, args=(stop,), daemon=True)
    sealer.start()
    written = 0
    try:
        started = time.monotonic()
        with sessions() as session:
            while time.monotonic() - started < 1.5:   # rows as fast as they commit, each in its own transaction
                audit.append(session, "deposit", STAFF, details={"ticket_no": f"A-{written:04d}"})
                session.commit()
                written += 1
        deadline = time.monotonic() + 10
        with sessions() as session:
            while session.scalar(select(func.count()).select_from(AuditSeal)) < written:
                assert time.monotonic() < deadline, "the sealer did not catch up"
                session.rollback()
                time.sleep(0.05)
            # A pass writes its seals with one sealed_at: one value per pass.
            passes = session.scalar(select(func.count(func.distinct(AuditSeal.sealed_at))))
    finally:
        stop.set()
        sealer.join(timeout=10)
    assert written > 200
    # An interval's rows in a pass, or a full batch's (then the next pass at once).
    assert passes <= 1.5 / 0.25 + written / BATCH + 3, (passes, written)
    with sessions() as session:
        assert audit.verify(session, app.config["AUDIT_KEY"]).ok
