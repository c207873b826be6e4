"""Refusals that must leave a trace: a forged scan, a refused release, a revoked stub shown.

The operation that refuses does not write its audit record beside its other
writes: it attaches the record to the error it raises (``refuse``), the caller's
transaction boundary rolls everything back, and then writes the record alone in
a transaction of its own (``write``). So a refusal never commits half of a
failed operation, and is never lost with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from . import alerts, audit, misses
from .errors import KioskError
from .values import Actor


@dataclass(frozen=True)
class Record:
    event: str
    actor: Actor
    at: datetime
    item_id: int | None = None
    details: dict = field(default_factory=dict)
    # A refusal that security must see at once (a revoked stub presented) raises an alert too.
    alert_kind: str | None = None
    # A wrong code scanned: counted per minute (kiosk.misses), not written row by row.
    tally: bool = False


def refuse(error: KioskError, event: str, actor: Actor, *, item_id: int | None = None,
           details: dict | None = None, now: datetime | None = None, alert: str | None = None,
           tally: bool = False) -> KioskError:
    """Attach the audit record of this refusal to ``error``; raise what this returns."""
    error.record = Record(event=event, actor=actor, at=now or datetime.now(UTC), item_id=item_id,
                          details={"refused": error.code, **(details or {})}, alert_kind=alert, tally=tally)
    return error


def write(session: Session, error: KioskError) -> None:
    """Write the refusal's record (and its alert), in a transaction holding nothing else."""
    record: Record | None = error.record
    if record is None:
        return
    details = dict(record.details)
    if record.tally:
        misses.record(session, record.actor, details, record.at)
        return
    if record.alert_kind:
        alert = alerts.raise_alert(session, record.actor, record.alert_kind, record.item_id, record.at,
                                   {k: v for k, v in details.items() if k != "refused"})
        details["alert_id"] = alert.id
        error.params["alert_id"] = alert.id
    audit.append(session, record.event, record.actor, item_id=record.item_id, details=details, now=record.at)
