"""Repair work orders (《工程维修单》): what a repair request sends to engineering.

A work order has its own state: issued → in_progress → completed, and for a repair
in a public area → checked (the desk inspects the work after completion). A repair
inside a unit is confirmed by the resident at the complaint's follow-up visit
instead. A failed check or an unsatisfied follow-up sends it back to in_progress.

Lock order: the complaint's row, then the work order's, then the audit chain.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import accounts, complaint_history
from .errors import InvalidInput, InvalidTransition, NotFound, WorkOrderNotDone
from .models import Complaint, WorkOrder
from .values import Actor

STATES = ("issued", "in_progress", "completed", "checked")
TRANSITIONS = {
    "issued": frozenset({"in_progress", "completed"}),
    "in_progress": frozenset({"completed"}),
    # Back to in_progress: the check found the work not done.
    "completed": frozenset({"checked", "in_progress"}),
    "checked": frozenset(),
}
# What a repair must reach before its complaint counts as resolved.
DONE = {"public": "checked", "in_unit": "completed"}
ASSIGNEE_LIMIT = 64


def issue(session: Session, actor: Actor, complaint: Complaint, scope: str, location: str,
          now: datetime) -> WorkOrder:
    order = WorkOrder(complaint_id=complaint.id, scope=scope, location=location, description=complaint.content,
                      state="issued", issued_at=now, issued_by=actor.name)
    session.add(order)
    session.flush()
    complaint_history.record(session, actor, complaint, "work_order", event="work_order_changed", now=now,
                             details={"work_order_id": order.id, "scope": scope, "work_order_state": "issued"})
    return order


def for_complaint(session: Session, complaint_id: int, *, lock: bool = False) -> WorkOrder | None:
    query = select(WorkOrder).where(WorkOrder.complaint_id == complaint_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def get(session: Session, order_id: int) -> WorkOrder:
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(id=order_id)
    return order


def _move(session: Session, actor: Actor, complaint: Complaint, order: WorkOrder, to: str, note: str,
          now: datetime) -> None:
    before = order.state
    order.state = to
    if to == "in_progress" and order.started_at is None:
        order.started_at = now
    elif to == "completed":
        order.completed_at, order.completed_by = now, actor.name
    elif to == "checked":
        order.checked_at, order.checked_by = now, actor.name
    complaint_history.record(session, actor, complaint, "work_order", event="work_order_changed", now=now,
                             note=note, details={"work_order_id": order.id, "work_order_from": before,
                                                 "work_order_state": to, "assignee": order.assignee})


def transition(session: Session, actor: Actor, order_id: int, to: str, note: str = "", *,
               assignee: str | None = None, now: datetime | None = None) -> WorkOrder:
    """Record engineering's progress, or the desk's check of a public repair.

    Anyone at the desk records it: engineering reports back to the desk, and the
    check is the desk's own inspection.
    """
    accounts.require(actor, "handle_complaint")
    now = now or datetime.now(UTC)
    if to not in STATES:
        raise InvalidInput(code="invalid_state", field="to", choices=STATES)
    order = get(session, order_id)
    complaint = session.get(Complaint, order.complaint_id, with_for_update=True, populate_existing=True)
    session.refresh(order, with_for_update=True)
    allowed = TRANSITIONS[order.state] - ({"checked"} if order.scope == "in_unit" else set())
    if to not in allowed:
        raise InvalidTransition(from_state=order.state, to=to, allowed=sorted(allowed))
    if assignee is not None:
        assignee = assignee.strip()
        if len(assignee) > ASSIGNEE_LIMIT:
            raise InvalidInput(code="too_long", field="assignee", limit=ASSIGNEE_LIMIT)
        order.assignee = assignee or None
    _move(session, actor, complaint, order, to, note, now)
    return order


def require_done(session: Session, complaint: Complaint) -> None:
    """A repair counts as resolved once engineering finished (and a public repair was checked)."""
    order = for_complaint(session, complaint.id, lock=True)
    if order is not None and order.state not in (DONE[order.scope], "checked"):
        raise WorkOrderNotDone(work_order_id=order.id, state=order.state, needed=DONE[order.scope])


def reopen(session: Session, actor: Actor, complaint: Complaint, note: str, now: datetime) -> None:
    """The resident says the repair did not fix it: back to engineering."""
    order = for_complaint(session, complaint.id, lock=True)
    if order is not None and order.state in ("completed", "checked"):
        _move(session, actor, complaint, order, "in_progress", note, now)


def list_orders(session: Session, *, state: str | None = None, limit: int = 100) -> list[WorkOrder]:
    """Engineering's list, oldest first: ``state="open"`` is everything not yet done
    (issued, in progress, and public repairs completed but not yet checked)."""
    query = select(WorkOrder)
    if state == "open":
        query = query.where(or_(WorkOrder.state.in_(("issued", "in_progress")),
                                (WorkOrder.state == "completed") & (WorkOrder.scope == "public")))
    elif state is not None:
        if state not in STATES:
            raise InvalidInput(code="invalid_state", field="state", choices=STATES)
        query = query.where(WorkOrder.state == state)
    return list(session.scalars(query.order_by(WorkOrder.id).limit(limit)))
