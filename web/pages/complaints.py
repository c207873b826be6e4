"""The complaints desk's pages: the lists (mine, kiosk filings nobody has taken, open, all) with
reply deadlines, taking a complaint at the desk, one complaint with its steps, replies and work
order, and the printable work order (《工程维修单》).

Views are thin: read the form, call kiosk.complaints, commit once, render. Times come from the
app's clock (``security.now``), so tests can move it; they show in the site's time zone.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import wraps

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from kiosk import accounts, complaint_history, complaints, work_orders
from kiosk import complaint_policy as policy
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import Complaint, User
from kiosk.privacy import mask_contact, mask_name
from kiosk.values import ComplaintForm

from .. import db
from ..auth import site_zone
from ..messages import message, word
from ..security import now
from . import blueprint
from .wording import refusal as refusal_of
from .complaint_forms import (
    AssessmentForm,
    ReassignForm,
    ReplyForm,
    TakeForm,
    TransitionForm,
    WorkOrderForm,
    tri_state,
    tri_value,
)

bp = blueprint("complaints")

VIEWS = ("mine", "unowned", "open", "all")
PAGE_SIZE = 50
# The domain's field names to the take form's, so a refusal lands beside its field.
TAKE_FIELDS = {"reply_due_at": "reply_due", "contact": "contact", "repair_scope": "repair_scope"}


def permitted(action: str):
    """Signed-in desk users whose role may ``action`` (kiosk.accounts.PERMISSIONS); others get 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not accounts.may(current_user.role, action):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def local(moment: datetime | None) -> str:
    return moment.astimezone(site_zone()).strftime("%Y-%m-%d %H:%M") if moment else ""


def row_of(complaint: Complaint, moment: datetime) -> dict:
    """A complaint as lists show it: name and contact masked, the deadline and whether it is broken."""
    return {
        "id": complaint.id, "kind": complaint.kind, "category": complaint.category, "channel": complaint.channel,
        "state": complaint.state, "unit": complaint.unit or "", "name": mask_name(complaint.name),
        "contact": mask_contact(complaint.contact), "summary": complaint.content[:60],
        "owner": complaint.owner_name, "received_at": local(complaint.received_at),
        "reply_due_at": local(complaint.reply_due_at), "replied": complaint.first_reply_at is not None,
        "overdue": complaints.reply_overdue(complaint, moment), "repeat_of": complaint.repeat_of,
    }


# --- the lists -------------------------------------------------------------------------------

def _list(view: str, moment: datetime, *, overdue: bool = False, state: str | None = None,
          cursor: int | None = None) -> tuple[list[dict], int | None]:
    actor = current_user.actor()
    rows, next_cursor = complaints.list_complaints(
        db.session(), now=moment, owner_id=actor.user_id if view == "mine" else None,
        unowned=view == "unowned", open_only=view in ("mine", "unowned", "open"), state=state,
        overdue=overdue, limit=PAGE_SIZE, before_id=cursor)
    return [row_of(row, moment) for row in rows], next_cursor


def _overdue_for_me(moment: datetime) -> list[dict]:
    """The broken promises this person must see: their own and the kiosk's unclaimed filings;
    a supervisor sees everyone's."""
    rows = complaints.overdue_replies(db.session(), moment, limit=100)
    if not accounts.may(current_user.role, "supervise_complaints"):
        rows = [row for row in rows if row.owner_id in (None, current_user.user_id)]
    return [row_of(row, moment) for row in rows]


def _unowned_count() -> int:
    """Kiosk filings nobody has acknowledged yet (the tab says how many wait)."""
    return db.session().scalar(select(func.count()).select_from(Complaint).where(
        Complaint.owner_id.is_(None), Complaint.state.in_(policy.OPEN_STATES))) or 0


@bp.get("/complaints")
@permitted("handle_complaint")
def index():
    view = request.args.get("view", "mine")
    view = view if view in VIEWS else "mine"
    state = request.args.get("state") or None
    state = state if state in policy.STATES else None
    overdue = request.args.get("overdue") == "true"
    cursor = request.args.get("cursor", type=int)
    cursor = cursor if cursor and 0 < cursor < 2**63 else None
    moment = now()
    rows, next_cursor = _list(view, moment, overdue=overdue, state=state, cursor=cursor)
    context = dict(view=view, state=state, overdue=overdue, rows=rows, next_cursor=next_cursor, views=VIEWS,
                   states=policy.STATES, word=word)
    # The page's script reads this page again when a complaint changes: never from a cache.
    return render_template("complaints.html", late=_overdue_for_me(moment), unowned=_unowned_count(),
                           **context), 200, {"Cache-Control": "no-store"}


# --- taking one at the desk ------------------------------------------------------------------

def _take_form(form: TakeForm) -> ComplaintForm:
    due = form.reply_due.data
    return ComplaintForm(
        kind=form.kind.data, category=form.category.data, channel=form.channel.data, content=form.content.data,
        unit=form.unit.data or None, name=form.name.data or None, contact=form.contact.data or None,
        area=form.area.data or None, wants=tuple(form.wants.data or ()), our_cause=tri_state(form.our_cause.data),
        reasonable=tri_state(form.reasonable.data), written=tri_state(form.written.data),
        reply_due_at=due.replace(tzinfo=site_zone()) if due else None,
        repair_scope=form.repair_scope.data or None if form.kind.data == "repair" else None,
        repair_location=form.repair_location.data or None if form.kind.data == "repair" else None)


def _place(form, error: KioskError, names: dict | None = None) -> dict | None:
    """A domain refusal beside its field, or as the page's banner when it has none."""
    name = (names or {}).get(error.field or "", error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors") and getattr(field, "type", "") != "HiddenField":
        field.errors = [message(error.code, **{**error.params, "field": field.label.text})]
        return None
    return refusal_of(error)


@bp.route("/complaints/new", methods=["GET", "POST"])
@permitted("file_complaint")
def take():
    form = TakeForm()
    refusal = None
    if form.validate_on_submit():
        session = db.session()
        try:
            with unit_of_work(session):
                complaint = complaints.take(session, current_user.actor(), _take_form(form), tz=site_zone(),
                                            now=now())
                number = complaint.id
            return redirect(url_for("complaints.detail", complaint_id=number, done="taken"), code=303)
        except KioskError as error:
            refusal = _place(form, error, TAKE_FIELDS)
    status = 422 if form.errors or refusal else 200
    return render_template("complaint_new.html", form=form, refusal=refusal, word=word), status


# --- one complaint ---------------------------------------------------------------------------

def _owners(session) -> list[tuple[str, str]]:
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [SelectChoice(user.name, user.name) for user in users if accounts.may(user.role, "handle_complaint")]


def _step_row(step) -> dict:
    details = json.loads(step.details)
    return {"at": local(step.at), "actor": step.actor, "action": step.action, "from": step.from_state,
            "to": step.to_state, "note": step.note, "written": step.written, "satisfied": step.satisfied,
            "late": details.get("late"), "work_order_state": details.get("work_order_state"),
            "to_owner": details.get("to_owner"), "from_owner": details.get("from_owner")}


def unique_ids(form, suffix: str) -> None:
    """Several forms on one page: give each field (and its label) an id of its own."""
    for field in form:
        field.id = f"{suffix}-{field.name}"
        field.label.field_id = field.id


def detail_page(complaint_id: int, status: int = 200, *, done: str | None = None, refusal: dict | None = None,
                forms: dict | None = None):
    session = db.session()
    try:
        complaint = complaints.get(session, complaint_id)
    except KioskError:
        abort(404)
    actor = current_user.actor()
    moment = now()
    order = work_orders.for_complaint(session, complaint.id)
    steps = [_step_row(step) for step in complaint_history.steps(session, complaint.id)]
    forms = forms or {}
    owner_or_supervisor = (complaint.owner_id == actor.user_id
                           or accounts.may(actor.role, "supervise_complaints"))
    moves = {}
    for state in complaints.next_states(actor, complaint):
        moves[state] = forms.get(f"to:{state}") or TransitionForm(formdata=None, to=state)
    order_moves = {}
    if order is not None:
        allowed = work_orders.TRANSITIONS[order.state] - ({"checked"} if order.scope == "in_unit" else set())
        for state in work_orders.STATES:
            if state in allowed:
                order_moves[state] = forms.get(f"order:{state}") or WorkOrderForm(
                    formdata=None, to=state, assignee=order.assignee)
    assessment = forms.get("assessment") or AssessmentForm(
        formdata=None, our_cause=tri_value(complaint.our_cause), reasonable=tri_value(complaint.reasonable),
        wants=[w for w in complaint.wants.split(",") if w])
    reply = forms.get("reply") or ReplyForm(formdata=None)
    reassign = None
    if accounts.may(actor.role, "supervise_complaints") and complaint.state != "closed":
        reassign = forms.get("reassign") or ReassignForm(formdata=None)
        reassign.owner.choices = [SelectChoice("", "—")] + _owners(session)
    for suffix, form in [*((f"move-{state}", form) for state, form in moves.items()),
                         *((f"order-{state}", form) for state, form in order_moves.items()),
                         ("assessment", assessment), ("reassign", reassign), ("reply", reply)]:
        if form is not None:
            unique_ids(form, suffix)
    return render_template(
        "complaint.html", complaint=complaint, order=order, steps=steps, done=done, refusal=refusal, word=word,
        local=local, moves=moves, order_moves=order_moves, assessment=assessment, reassign=reassign,
        reply=reply,
        owner_or_supervisor=owner_or_supervisor, overdue=complaints.reply_overdue(complaint, moment),
        name=complaint.name if owner_or_supervisor else mask_name(complaint.name),
        contact=complaint.contact if owner_or_supervisor else mask_contact(complaint.contact),
        wants=[w for w in complaint.wants.split(",") if w]), status


@bp.get("/complaints/<int:complaint_id>")
@permitted("handle_complaint")
def detail(complaint_id: int):
    done = request.args.get("done")
    return detail_page(complaint_id, done=done if done in DONE else None)


# What the page says after each change (the template words them).
DONE = ("taken", "moved", "replied", "assessed", "reassigned", "work_order")


def act(complaint_id: int, form, key: str, work, done: str):
    """One change to a complaint from its page, in its own transaction; then the page again
    (after a redirect, so a reload does not send it twice)."""
    if not form.validate_on_submit():
        return detail_page(complaint_id, 422, forms={key: form})
    session = db.session()
    try:
        with unit_of_work(session):
            work(session, current_user.actor(), form)
    except KioskError as error:
        if error.code == "not_found":
            abort(404)
        status = error.status if error.status in (403, 409) else 422
        return detail_page(complaint_id, status, refusal=_place(form, error), forms={key: form})
    return redirect(url_for("complaints.detail", complaint_id=complaint_id, done=done), code=303)


@bp.post("/complaints/<int:complaint_id>/transitions")
@permitted("handle_complaint")
def transition(complaint_id: int):
    form = TransitionForm()

    def work(session, actor, form):
        # Only the follow-up visit says whether the resident is satisfied (the domain asks for it there).
        satisfied = tri_state(form.satisfied.data) if form.to.data == "followed_up" else None
        complaints.transition(session, actor, complaint_id, form.to.data, form.note.data or "", satisfied=satisfied,
                              reply=form.reply.data or None, written=bool(form.written.data), now=now())

    return act(complaint_id, form, f"to:{form.to.data}", work, "moved")


@bp.post("/complaints/<int:complaint_id>/replies")
@permitted("handle_complaint")
def reply(complaint_id: int):
    def work(session, actor, form):
        complaints.reply(session, actor, complaint_id, form.text.data, written=bool(form.written.data), now=now())

    return act(complaint_id, ReplyForm(), "reply", work, "replied")


@bp.post("/complaints/<int:complaint_id>/assessment")
@permitted("handle_complaint")
def assess(complaint_id: int):
    def work(session, actor, form):
        complaints.assess(session, actor, complaint_id, our_cause=tri_state(form.our_cause.data),
                          reasonable=tri_state(form.reasonable.data), wants=tuple(form.wants.data or ()), now=now())

    return act(complaint_id, AssessmentForm(), "assessment", work, "assessed")


@bp.post("/complaints/<int:complaint_id>/reassign")
@permitted("supervise_complaints")
def reassign(complaint_id: int):
    form = ReassignForm()
    form.owner.choices = _owners(db.session())

    def work(session, actor, form):
        complaints.reassign(session, actor, complaint_id, form.owner.data, form.reason.data, now=now())

    return act(complaint_id, form, "reassign", work, "reassigned")


# --- work orders -----------------------------------------------------------------------------

@bp.post("/complaints/work-orders/<int:order_id>/transitions")
@permitted("handle_complaint")
def work_order_transition(order_id: int):
    session = db.session()
    try:
        complaint_id = work_orders.get(session, order_id).complaint_id
    except KioskError:
        abort(404)
    form = WorkOrderForm()

    def work(session, actor, form):
        work_orders.transition(session, actor, order_id, form.to.data, form.note.data or "",
                               assignee=form.assignee.data if form.assignee.data else None, now=now())

    return act(complaint_id, form, f"order:{form.to.data}", work, "work_order")


@bp.get("/complaints/work-orders")
@permitted("handle_complaint")
def work_order_list():
    session = db.session()
    orders = work_orders.list_orders(session, state="open", limit=200)
    units = {c.id: c.unit for c in session.scalars(
        select(Complaint).where(Complaint.id.in_([o.complaint_id for o in orders])))} if orders else {}
    return render_template("work_orders.html", orders=orders, units=units, word=word, local=local)


@bp.get("/complaints/work-orders/<int:order_id>")
@permitted("handle_complaint")
def work_order(order_id: int):
    """The printable repair order for engineering: where, what, and room to sign; the resident's
    name and contact masked (engineering goes through the desk)."""
    session = db.session()
    try:
        order = work_orders.get(session, order_id)
    except KioskError:
        abort(404)
    complaint = session.get(Complaint, order.complaint_id)
    return render_template("work_order.html", order=order, complaint=complaint, word=word, local=local,
                           name=mask_name(complaint.name), contact=mask_contact(complaint.contact),
                           site=current_app.config["SITE_NAME"])
