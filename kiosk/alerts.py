"""Security alerts: something security must look at now (a revoked stub presented, …).

Raising an alert is an audit event too, so nobody can quietly make one disappear;
resolving it records who did and why.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .errors import Conflict, NotFound
from .models import Alert
from .values import Actor

KINDS = (
    "revoked_stub_presented", "lost_stub_after_release", "wrong_code_burst", "key_loan_overdue",
    "key_out_at_end_of_day", "complaint_reply_overdue",
    # Escalated from a shift handover or key count: an item not on the shelf, or another difference.
    "item_missing", "count_discrepancy",
)


def raise_alert(session: Session, actor: Actor, kind: str, item_id: int | None, now: datetime,
                details: dict) -> Alert:
    alert = Alert(kind=kind, item_id=item_id, at=now, actor=actor.name, device=actor.device,
                  details=audit.canonical(details))
    session.add(alert)
    session.flush()
    audit.append(session, "alert", actor, item_id=item_id, now=now,
                 details={"alert_id": alert.id, "kind": kind, **details})
    return alert


def list_alerts(session: Session, *, open_only: bool = True, limit: int = 100) -> list[Alert]:
    query = select(Alert)
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    return list(session.scalars(query.order_by(Alert.id.desc()).limit(limit)))


def resolve_alert(session: Session, actor: Actor, alert_id: int, note: str = "",
                  now: datetime | None = None) -> Alert:
    now = now or datetime.now(UTC)
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(id=alert_id)
    if alert.resolved_at is not None:
        raise Conflict(code="alert_already_resolved", id=alert_id)
    alert.resolved_at, alert.resolved_by = now, actor.name
    audit.append(session, "alert_resolved", actor, item_id=alert.item_id, now=now,
                 details={"alert_id": alert.id, "note": note})
    return alert
