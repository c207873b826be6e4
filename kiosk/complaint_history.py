"""A complaint's history: every step with who and when, each also an audit event.

The steps are the complaint's own readable trail (the detail page shows them);
the audit chain is the tamper-evident copy. Neither holds the resident's name or
contact: a step says what happened, the complaint row says who complained.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .models import Complaint, ComplaintStep
from .values import Actor


def record(session: Session, actor: Actor, complaint: Complaint, action: str, *, event: str, now: datetime,
           from_state: str | None = None, to_state: str | None = None, note: str = "",
           written: bool | None = None, satisfied: bool | None = None, details: dict | None = None
           ) -> ComplaintStep:
    """Add a step; the caller holds the complaint's row lock (it comes before the audit chain)."""
    details = {key: value for key, value in (details or {}).items() if value is not None}
    step = ComplaintStep(complaint_id=complaint.id, at=now, actor=actor.name, actor_role=actor.role,
                         action=action, from_state=from_state, to_state=to_state, note=note or "",
                         written=written, satisfied=satisfied, details=audit.canonical(details))
    session.add(step)
    trail = {"complaint_id": complaint.id, "action": action, "from": from_state, "to": to_state,
             "note": note or None, "written": written, "satisfied": satisfied, **details}
    audit.append(session, event, actor, now=now, details={k: v for k, v in trail.items() if v is not None})
    return step


def steps(session: Session, complaint_id: int) -> list[ComplaintStep]:
    return list(session.scalars(
        select(ComplaintStep).where(ComplaintStep.complaint_id == complaint_id).order_by(ComplaintStep.id)))
