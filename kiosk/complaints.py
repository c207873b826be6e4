"""The complaints desk (投诉, 报修, 求助): taking a complaint or request, owning it to the end,
replying when promised, following up, and closing it.

DOMAIN.md, "Complaints and requests". Whoever takes a complaint owns it until it is
closed (首问责任制); a kiosk filing is owned by the staff member who first
acknowledges it. Only a supervisor reassigns, with a reason. A reply is promised by
a time the staff member chooses, or within one working day of the site's calendar.

States: received → acknowledged → in_progress → resolved → followed_up → closed
(something fixed on the spot may go from acknowledged straight to resolved). An
unsatisfied follow-up visit sends it back to in_progress.

Lock order: the complaint's row, then its work order, then alerts, then the audit chain.
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from . import accounts, alerts, complaint_history, work_orders, workdays
from . import complaint_policy as policy
from .errors import (
    Conflict, InvalidInput, InvalidTransition, NotComplaintOwner, NotFound, TooManyFilings, WrittenReplyRequired,
)
from .models import Alert, Complaint, User
from .values import Actor, ComplaintForm

OVERDUE_ALERT = "complaint_reply_overdue"


def earlier_complaint(session: Session, unit: str | None, category: str, now: datetime) -> int | None:
    """The latest complaint from the same unit in the same category within 30 days."""
    if unit is None:
        return None
    return session.scalar(
        select(Complaint.id)
        .where(Complaint.unit == unit, Complaint.category == category,
               Complaint.received_at > now - policy.REPEAT_WINDOW, Complaint.received_at <= now)
        .order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(1))


def _check_kiosk_rate(session: Session, actor: Actor, now: datetime) -> None:
    recent = session.scalar(select(func.count()).where(
        Complaint.device == actor.device, Complaint.received_at > now - policy.KIOSK_WINDOW))
    if recent >= policy.KIOSK_FILINGS:
        raise TooManyFilings(limit=policy.KIOSK_FILINGS, minutes=int(policy.KIOSK_WINDOW.total_seconds() // 60))


def take(session: Session, actor: Actor, form: ComplaintForm, *, tz: ZoneInfo,
         now: datetime | None = None) -> Complaint:
    """Take a complaint or request down; a repair also issues its work order.

    ``tz`` is the site's time zone: the working-day calendar counts its days there.
    """
    accounts.require(actor, "file_complaint")
    now = now or datetime.now(UTC)
    form = policy.check_form(form, actor, now)
    kiosk = actor.role == accounts.KIOSK
    if kiosk:
        _check_kiosk_rate(session, actor, now)
    if form.reply_due_at is not None:
        due = form.reply_due_at
    else:
        due = workdays.add_working_days(workdays.load(session, tz, now.astimezone(tz).date()), now)
    complaint = Complaint(
        kind=form.kind, channel=form.channel, category=form.category, area=form.area, unit=form.unit,
        name=form.name, contact=form.contact, content=form.content, language=form.language,
        wants=",".join(form.wants),
        our_cause=form.our_cause, reasonable=form.reasonable, written=form.written,
        repair_scope=form.repair_scope, state="received",
        owner_id=None if kiosk else actor.user_id, owner_name=None if kiosk else actor.name,
        taken_by=actor.name, device=actor.device, received_at=now, reply_due_at=due,
        reply_due_promised=form.reply_due_at is not None, state_changed_at=now,
        repeat_of=earlier_complaint(session, form.unit, form.category, now),
    )
    session.add(complaint)
    session.flush()
    complaint_history.record(session, actor, complaint, "taken", event="complaint_taken", now=now,
                             to_state="received", details={
                                 "kind": complaint.kind, "channel": complaint.channel,
                                 "category": complaint.category, "area": complaint.area, "unit": complaint.unit,
                                 "owner": complaint.owner_name, "reply_due_at": due.isoformat(),
                                 "reply_due_promised": complaint.reply_due_promised,
                                 "repeat_of": complaint.repeat_of, "written": complaint.written})
    if form.kind == "repair":
        work_orders.issue(session, actor, complaint, form.repair_scope,
                          form.repair_location or form.unit or "", now)
    return complaint


def get(session: Session, complaint_id: int, *, lock: bool = False) -> Complaint:
    """The complaint; with ``lock``, its row locked for this transaction (before any other lock)."""
    complaint = session.get(Complaint, complaint_id, with_for_update=lock or None, populate_existing=lock)
    if complaint is None:
        raise NotFound(id=complaint_id)
    return complaint


def _require_owner(actor: Actor, complaint: Complaint) -> None:
    accounts.require(actor, "handle_complaint")
    if complaint.owner_id != actor.user_id and not accounts.may(actor.role, "supervise_complaints"):
        raise NotComplaintOwner(id=complaint.id, owner=complaint.owner_name)


def may_act(actor: Actor, complaint: Complaint) -> bool:
    """Whether this actor may move the complaint on: its owner or a supervisor, or anyone at
    the desk for a kiosk filing nobody has acknowledged yet."""
    if not accounts.may(actor.role, "handle_complaint"):
        return False
    return (complaint.owner_id is None or complaint.owner_id == actor.user_id
            or accounts.may(actor.role, "supervise_complaints"))


def next_states(actor: Actor, complaint: Complaint) -> list[str]:
    """Where this actor may move the complaint now, in the order of the walk."""
    if not may_act(actor, complaint):
        return []
    allowed = policy.TRANSITIONS[complaint.state]
    if complaint.owner_id is None:
        allowed = allowed & {"acknowledged"}
    return [state for state in policy.STATES if state in allowed]


def _require_open(complaint: Complaint) -> None:
    if complaint.state == "closed":
        raise Conflict(code="complaint_closed", id=complaint.id)


def _record_reply(session: Session, actor: Actor, complaint: Complaint, text: str, written: bool,
                  now: datetime) -> None:
    complaint_history.record(session, actor, complaint, "reply", event="complaint_reply", now=now,
                             note=text, written=written,
                             details={"late": now > complaint.reply_due_at if complaint.first_reply_at is None else None})
    if complaint.first_reply_at is None:
        complaint.first_reply_at = now
        if complaint.reply_overdue_alert_id is not None:
            alert = session.get(Alert, complaint.reply_overdue_alert_id)
            if alert.resolved_at is None:
                alerts.resolve_alert(session, actor, alert.id, note="replied", now=now)
    if written and complaint.written_reply_at is None:
        complaint.written_reply_at = now


def reply(session: Session, actor: Actor, complaint_id: int, text: str, *, written: bool = False,
          now: datetime | None = None) -> Complaint:
    """Record what the desk told the resident. The first reply keeps (or breaks) the promise."""
    now = now or datetime.now(UTC)
    text = policy.text("note", text, required=True)
    complaint = get(session, complaint_id, lock=True)
    _require_owner(actor, complaint)
    _require_open(complaint)
    _record_reply(session, actor, complaint, text, written, now)
    return complaint


def _move(session: Session, actor: Actor, complaint: Complaint, to: str, note: str, now: datetime,
          action: str = "transition", satisfied: bool | None = None) -> None:
    before = complaint.state
    complaint.state, complaint.state_changed_at = to, now
    if to == "resolved":
        complaint.resolved_at = now
    elif to == "closed":
        complaint.closed_at = now
    complaint_history.record(session, actor, complaint, action, event="complaint_changed", now=now,
                             from_state=before, to_state=to, note=note, satisfied=satisfied)


def transition(session: Session, actor: Actor, complaint_id: int, to: str, note: str = "", *,
               satisfied: bool | None = None, reply: str | None = None, written: bool = False,
               now: datetime | None = None) -> Complaint:
    """Move a complaint on, recording who and when; optionally with a reply to the resident.

    ``to="followed_up"`` is the follow-up visit and needs ``satisfied``; an unsatisfied
    resident sends it back to in_progress (and a repair back to engineering).
    """
    now = now or datetime.now(UTC)
    policy.choice("to", to, policy.STATES, "invalid_state")
    note = policy.text("note", note, required=False) or ""
    reply = policy.text("note", reply, required=False)
    complaint = get(session, complaint_id, lock=True)
    claiming = complaint.owner_id is None and complaint.state == "received" and to == "acknowledged"
    if claiming:
        # A kiosk filing: whoever first acknowledges it owns it from now on.
        accounts.require(actor, "handle_complaint")
    else:
        _require_owner(actor, complaint)
    allowed = policy.TRANSITIONS[complaint.state]
    if to not in allowed:
        raise InvalidTransition(from_state=complaint.state, to=to, allowed=sorted(allowed))
    if (to == "followed_up") != (satisfied is not None):
        if satisfied is None:
            raise InvalidInput(code="missing_field", field="satisfied")
        raise InvalidInput(code="field_not_allowed", field="satisfied")
    if to == "resolved":
        work_orders.require_done(session, complaint)
    if to == "closed" and complaint.written and complaint.written_reply_at is None and not (reply and written):
        raise WrittenReplyRequired(id=complaint.id)
    if claiming:
        complaint.owner_id, complaint.owner_name = actor.user_id, actor.name
    if reply:
        _record_reply(session, actor, complaint, reply, written, now)
    _move(session, actor, complaint, to, note, now,
          action="follow_up" if to == "followed_up" else "transition", satisfied=satisfied)
    if satisfied is False:
        _move(session, actor, complaint, "in_progress", note, now, action="reopened")
        work_orders.reopen(session, actor, complaint, note, now)
    return complaint


def reassign(session: Session, actor: Actor, complaint_id: int, owner: str, reason: str,
             now: datetime | None = None) -> Complaint:
    """Only a supervisor hands a complaint to someone else, and says why."""
    accounts.require(actor, "supervise_complaints")
    now = now or datetime.now(UTC)
    reason = policy.text("note", reason, required=True)
    complaint = get(session, complaint_id, lock=True)
    _require_open(complaint)
    user = session.scalar(select(User).where(User.name == owner))
    if user is None or not user.active or not accounts.may(user.role, "handle_complaint"):
        raise InvalidInput(code="invalid_owner", field="owner", name=owner)
    if user.id == complaint.owner_id:
        raise InvalidInput(code="same_owner", field="owner", name=owner)
    before = complaint.owner_name
    complaint.owner_id, complaint.owner_name = user.id, user.name
    complaint_history.record(session, actor, complaint, "reassign", event="complaint_reassigned", now=now,
                             note=reason, details={"from_owner": before, "to_owner": user.name})
    return complaint


_UNCHANGED = object()


def assess(session: Session, actor: Actor, complaint_id: int, *, our_cause=_UNCHANGED, reasonable=_UNCHANGED,
           wants=_UNCHANGED, now: datetime | None = None) -> Complaint:
    """The owner's judgement: is the cause ours, is the request reasonable, what does the resident want."""
    now = now or datetime.now(UTC)
    complaint = get(session, complaint_id, lock=True)
    _require_owner(actor, complaint)
    _require_open(complaint)
    changes: dict = {}
    for field, value in (("our_cause", our_cause), ("reasonable", reasonable)):
        if value is not _UNCHANGED:
            if value is not None and not isinstance(value, bool):
                raise InvalidInput(code="invalid_boolean", field=field)
            setattr(complaint, field, value)
            changes[field] = value
    if wants is not _UNCHANGED:
        unknown = [want for want in wants if want not in policy.WANTS]
        if unknown:
            raise InvalidInput(code="invalid_wants", field="wants", choices=policy.WANTS, value=unknown[0])
        complaint.wants = ",".join(dict.fromkeys(wants))
        changes["wants"] = complaint.wants
    complaint_history.record(session, actor, complaint, "assessed", event="complaint_changed", now=now,
                             details=changes)
    return complaint


def reply_overdue(complaint: Complaint, now: datetime) -> bool:
    """Whether the promised reply time has passed with no reply (a closed complaint is past caring)."""
    return complaint.first_reply_at is None and complaint.state != "closed" and complaint.reply_due_at <= now


def _reply_overdue_where(now: datetime):
    """``reply_overdue`` in SQL (answered from the partial index of complaints awaiting a reply)."""
    return and_(Complaint.first_reply_at.is_(None), Complaint.reply_due_at <= now, Complaint.state != "closed")


def overdue_replies(session: Session, now: datetime, limit: int = 500) -> list[Complaint]:
    """Open complaints whose promised reply time has passed with no reply, oldest promise first."""
    return list(session.scalars(
        select(Complaint).where(_reply_overdue_where(now))
        .order_by(Complaint.reply_due_at, Complaint.id).limit(limit)))


def raise_overdue_alerts(session: Session, actor: Actor, now: datetime | None = None) -> list[Alert]:
    """One alert per broken promise, on the owner's desk and the supervisor's screen.

    Rows another worker is handling are skipped (SKIP LOCKED), so two app servers
    running this at once raise each alert once.
    """
    now = now or datetime.now(UTC)
    due = list(session.scalars(
        select(Complaint).where(_reply_overdue_where(now), Complaint.reply_overdue_alert_id.is_(None))
        .order_by(Complaint.reply_due_at, Complaint.id).limit(500)
        .with_for_update(skip_locked=True).execution_options(populate_existing=True)))
    raised = []
    for complaint in due:
        alert = alerts.raise_alert(session, actor, OVERDUE_ALERT, None, now, {
            "complaint_id": complaint.id, "owner": complaint.owner_name, "unit": complaint.unit,
            "category": complaint.category, "reply_due_at": complaint.reply_due_at.isoformat()})
        complaint.reply_overdue_alert_id = alert.id
        raised.append(alert)
    session.flush()
    return raised


def list_complaints(session: Session, *, now: datetime | None = None, owner_id: int | None = None,
                    unowned: bool = False, state: str | None = None, open_only: bool = False,
                    overdue: bool = False, unit: str | None = None, limit: int = 50,
                    before_id: int | None = None) -> tuple[list[Complaint], int | None]:
    """Newest first, keyset-paginated (pass the cursor back as ``before_id``).

    The owner's desk is ``owner_id=me, open_only=True``; the kiosk's filings waiting
    for someone to take them are ``unowned=True``. Whoever shows the rows masks the
    resident's name and contact (kiosk.privacy): a list needs neither in full.
    """
    now = now or datetime.now(UTC)
    query = select(Complaint)
    if owner_id is not None:
        query = query.where(Complaint.owner_id == owner_id)
    if unowned:
        query = query.where(Complaint.owner_id.is_(None))
    if state is not None:
        policy.choice("state", state, policy.STATES)
        query = query.where(Complaint.state == state)
    if open_only:
        query = query.where(Complaint.state.in_(policy.OPEN_STATES))
    if overdue:
        query = query.where(_reply_overdue_where(now))
    if unit is not None:
        query = query.where(Complaint.unit == policy.normalise_unit(unit))
    if before_id is not None:
        query = query.where(Complaint.id < before_id)
    rows = list(session.scalars(query.order_by(Complaint.id.desc()).limit(limit + 1)))
    cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], cursor
