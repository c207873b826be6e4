"""Wrong codes at the scanners: counted per actor and minute, one alert per burst.

Someone trying stubs at a kiosk must not cost a row per attempt: the first miss of
each minute is an audit row, the rest only count in that minute's tally
(``scan_misses``), so storage grows with minutes, not with attempts. From ``BURST``
misses in a minute on, security gets one alert (who, where, how many) that keeps
counting for as long as it is open.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import audit
from .alerts import raise_alert
from .models import Alert, ScanMiss
from .values import Actor

BURST = 10
KIND = "wrong_code_burst"


def _tally(session: Session, actor: Actor, minute: datetime, source: str | None, now: datetime) -> int:
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    statement = insert(ScanMiss).values(actor=actor.name, minute=minute, device=actor.device, source=source,
                                        count=1, last_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[ScanMiss.actor, ScanMiss.minute],
        set_={"count": ScanMiss.count + 1, "last_at": now, "source": source},
    ).returning(ScanMiss.count)
    return session.execute(statement).scalar_one()


def record(session: Session, actor: Actor, details: dict, now: datetime) -> None:
    """Count one wrong code scanned by ``actor``; ``details`` describe it (digest, length, source)."""
    minute = now.replace(second=0, microsecond=0)
    source = details.get("source")
    count = _tally(session, actor, minute, source, now)
    if count == 1:
        audit.append(session, "scan", actor, now=now, details={**details, "tally_minute": minute.isoformat()})
    burst = session.scalar(select(Alert.id).where(Alert.kind == KIND, Alert.actor == actor.name,
                                                  Alert.resolved_at.is_(None)).order_by(Alert.id.desc()).limit(1))
    if burst is not None:
        session.execute(update(Alert).where(Alert.id == burst).values(count=Alert.count + 1, last_at=now)
                        .execution_options(synchronize_session=False))
    elif count >= BURST:
        alert = raise_alert(session, actor, KIND, None, now, {"device": actor.device, "source": source,
                                                               "misses": count, "since": minute.isoformat()})
        alert.count, alert.last_at = count, now


def tallies(session: Session, actor_name: str) -> list[ScanMiss]:
    return list(session.scalars(select(ScanMiss).where(ScanMiss.actor == actor_name).order_by(ScanMiss.minute)))
