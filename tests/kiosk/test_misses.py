"""A flood of wrong codes from one device: one alert that says who, where and how many, and
storage that grows with minutes, not with attempts."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kiosk import alerts, claims, misses
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import Alert, AuditEvent, ScanMiss

NOW = datetime(2026, 11, 22, 10, 0, 5, tzinfo=UTC)


def wrong(session, desk, actor, count, start, source="192.0.2.7"):
    for n in range(count):
        with pytest.raises(KioskError), unit_of_work(session):
            claims.scan(session, desk, actor, f"K1S-{n}-0-" + "0" * 20, now=start + timedelta(milliseconds=n),
                        source=source)


def rows(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_burst_of_wrong_codes_is_one_alert_that_counts_on(session, desk, users):
    kiosk = users["kiosk"]
    wrong(session, desk, kiosk, 50, NOW)
    alert = session.scalars(select(Alert)).one()
    assert (alert.kind, alert.actor, alert.device, alert.count) == ("wrong_code_burst", "kiosk:lobby-1", "lobby-1", 50)
    assert '"source":"192.0.2.7"' in alert.details and '"misses":10' in alert.details
    wrong(session, desk, kiosk, 30, NOW + timedelta(minutes=1))
    session.refresh(alert)
    assert alert.count == 80 and alert.last_at > NOW + timedelta(minutes=1)
    # 80 attempts: one trail row per minute, one for the alert, and two tally rows.
    assert rows(session, AuditEvent, AuditEvent.event == "scan") == 2
    assert rows(session, AuditEvent, AuditEvent.event == "alert") == 1
    assert [(t.minute.minute, t.count) for t in misses.tallies(session, "kiosk:lobby-1")] == [(0, 50), (1, 30)]


def test_a_few_misses_raise_nothing_and_another_device_counts_apart(session, desk, users):
    wrong(session, desk, users["kiosk"], misses.BURST - 1, NOW)
    wrong(session, desk, users["staff"], 3, NOW)
    assert rows(session, Alert) == 0
    assert {t.actor: t.count for t in session.scalars(select(ScanMiss))} == {"kiosk:lobby-1": 9, "staff-1": 3}


def test_after_security_resolves_it_a_new_burst_is_a_new_alert(session, desk, users):
    wrong(session, desk, users["kiosk"], 12, NOW)
    first = session.scalars(select(Alert)).one()
    with unit_of_work(session):
        alerts.resolve_alert(session, users["security"], first.id, "kiosk checked", now=NOW + timedelta(minutes=5))
    wrong(session, desk, users["kiosk"], 12, NOW + timedelta(minutes=10))
    assert [(a.kind, a.count) for a in session.scalars(select(Alert).order_by(Alert.id))] == [
        ("wrong_code_burst", 12), ("wrong_code_burst", 12)]
