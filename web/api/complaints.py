"""The complaints desk: take a complaint or request (a kiosk may file one), read it, move it on,
reply, reassign, judge it; and engineering's work orders."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from flask import current_app
from pydantic import Field

from kiosk import accounts, complaint_history, complaints, work_orders
from kiosk import complaint_policy as policy
from kiosk.errors import InvalidInput
from kiosk.models import Complaint, ComplaintStep, WorkOrder
from kiosk.privacy import mask_contact, mask_name
from kiosk.values import ComplaintForm

from .. import db
from ..schema import Answer, Body, Choice, Flag, Name, Query, Text, Timestamp
from . import operation
from .answers import Time

LIMITS = policy.TEXT_LIMITS
SHAPE = ("missing_field", "unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed")
NOT_FOUND = {404: ("not_found",)}
NOT_OWNER = ("forbidden", "not_complaint_owner")
Note = Text(LIMITS["note"], multiline=True, required=False)


def site_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


# --- answers ------------------------------------------------------------------------------

class ComplaintSummary(Answer):
    """A complaint as lists show it: the resident's name and contact masked."""

    id: int
    kind: str
    category: str
    channel: str
    state: str
    unit: str | None
    name: str
    contact: str
    summary: str
    owner: str | None
    received_at: Time
    reply_due_at: Time
    first_reply_at: Time | None
    reply_overdue: bool
    repeat_of: int | None


SUMMARY_LENGTH = 60


def complaint_summary(complaint: Complaint, now: datetime) -> ComplaintSummary:
    return ComplaintSummary(
        id=complaint.id, kind=complaint.kind, category=complaint.category, channel=complaint.channel,
        state=complaint.state, unit=complaint.unit, name=mask_name(complaint.name),
        contact=mask_contact(complaint.contact), summary=complaint.content[:SUMMARY_LENGTH],
        owner=complaint.owner_name, received_at=complaint.received_at, reply_due_at=complaint.reply_due_at,
        first_reply_at=complaint.first_reply_at, reply_overdue=complaints.reply_overdue(complaint, now),
        repeat_of=complaint.repeat_of)


class StepView(Answer):
    at: Time
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str
    written: bool | None
    satisfied: bool | None
    details: dict


class WorkOrderView(Answer):
    """A repair order for engineering (《工程维修单》)."""

    id: int
    complaint_id: int
    scope: Literal["public", "in_unit"]
    location: str
    description: str
    state: Literal[work_orders.STATES]
    assignee: str | None
    issued_at: Time
    issued_by: str
    started_at: Time | None
    completed_at: Time | None
    completed_by: str | None
    checked_at: Time | None
    checked_by: str | None


class ComplaintView(Answer):
    id: int
    kind: str
    category: str
    channel: str
    area: str
    state: Literal[policy.STATES]
    next_states: list[str]
    unit: str | None
    name: str | None
    contact_masked: str
    # Only for its owner and supervisors, who call the resident back.
    contact: str | None = None
    content: str
    wants: list[str]
    our_cause: bool | None
    reasonable: bool | None
    written: bool
    repair_scope: str | None
    owner: str | None
    taken_by: str
    received_at: Time
    reply_due_at: Time
    reply_due_promised: bool
    reply_overdue: bool
    first_reply_at: Time | None
    written_reply_at: Time | None
    resolved_at: Time | None
    closed_at: Time | None
    repeat_of: int | None
    work_order: WorkOrderView | None
    steps: list[StepView]


def work_order_view(order: WorkOrder) -> WorkOrderView:
    return WorkOrderView(
        id=order.id, complaint_id=order.complaint_id, scope=order.scope, location=order.location,
        description=order.description, state=order.state, assignee=order.assignee, issued_at=order.issued_at,
        issued_by=order.issued_by, started_at=order.started_at, completed_at=order.completed_at,
        completed_by=order.completed_by, checked_at=order.checked_at, checked_by=order.checked_by)


def step_view(step: ComplaintStep) -> StepView:
    return StepView(at=step.at, actor=step.actor, action=step.action, from_state=step.from_state,
                    to_state=step.to_state, note=step.note, written=step.written, satisfied=step.satisfied,
                    details=json.loads(step.details))


def complaint_view(actor, complaint: Complaint) -> ComplaintView:
    session = db.session()
    order = work_orders.for_complaint(session, complaint.id)
    view = dict(
        id=complaint.id, kind=complaint.kind, category=complaint.category, channel=complaint.channel,
        area=complaint.area, state=complaint.state, next_states=complaints.next_states(actor, complaint),
        unit=complaint.unit, name=complaint.name, contact_masked=mask_contact(complaint.contact),
        content=complaint.content, wants=[w for w in complaint.wants.split(",") if w],
        our_cause=complaint.our_cause, reasonable=complaint.reasonable, written=complaint.written,
        repair_scope=complaint.repair_scope, owner=complaint.owner_name, taken_by=complaint.taken_by,
        received_at=complaint.received_at, reply_due_at=complaint.reply_due_at,
        reply_due_promised=complaint.reply_due_promised,
        reply_overdue=complaints.reply_overdue(complaint, datetime.now(UTC)),
        first_reply_at=complaint.first_reply_at, written_reply_at=complaint.written_reply_at,
        resolved_at=complaint.resolved_at, closed_at=complaint.closed_at, repeat_of=complaint.repeat_of,
        work_order=work_order_view(order) if order else None,
        steps=[step_view(step) for step in complaint_history.steps(session, complaint.id)])
    if complaint.owner_id == actor.user_id or accounts.may(actor.role, "supervise_complaints"):
        view["contact"] = complaint.contact
    return ComplaintView(**view)


# --- taking one ---------------------------------------------------------------------------

class ComplaintRequest(Body):
    kind: Choice(policy.KINDS, "invalid_complaint_kind")
    category: Choice(policy.CATEGORIES, "invalid_category")
    # Left out at the kiosk (it is always "kiosk" there); required at the desk.
    channel: Choice(policy.CHANNELS, "invalid_channel") | None = None
    content: Text(LIMITS["content"], multiline=True)
    unit: Text(LIMITS["unit"]) | None = None
    name: Name(LIMITS["name"]) | None = None
    contact: Text(LIMITS["contact"]) | None = None
    area: Choice(policy.AREAS, "invalid_area") | None = None
    wants: list[Choice(policy.WANTS, "invalid_wants")] = []
    our_cause: Flag | None = None
    reasonable: Flag | None = None
    written: Flag | None = None
    reply_due_at: Timestamp | None = None
    repair_scope: Choice(policy.REPAIR_SCOPES, "invalid_repair_scope") | None = None
    repair_location: Text(LIMITS["repair_location"]) | None = None

    def form(self, actor) -> ComplaintForm:
        channel = self.channel or ("kiosk" if actor.role == accounts.KIOSK else None)
        if channel is None:
            raise InvalidInput(code="missing_field", field="channel")
        return ComplaintForm(
            kind=self.kind, category=self.category, channel=channel, content=self.content, unit=self.unit,
            name=self.name, contact=self.contact, area=self.area, wants=tuple(self.wants),
            our_cause=self.our_cause, reasonable=self.reasonable, written=self.written,
            reply_due_at=self.reply_due_at, repair_scope=self.repair_scope, repair_location=self.repair_location)


class FiledAnswer(Answer):
    """The promise: by when the desk replies, and who owns it (none yet for a kiosk filing)."""

    id: int
    state: str
    reply_due_at: Time
    owner: str | None
    # Not for a kiosk: whether a unit complained before is none of the lobby's business.
    repeat_of: int | None = None
    work_order_id: int | None = None
    complaint: ComplaintView | None = None


@operation("POST", "/complaints", summary="Take a complaint or request (a kiosk may file one)",
           permission="file_complaint", body=ComplaintRequest, answers={201: FiledAnswer}, tag="complaints",
           errors={403: ("forbidden",), 409: ("no_working_days",), 429: ("too_many_filings",), 422: SHAPE + (
               "invalid_complaint_kind", "invalid_category", "invalid_channel", "invalid_area", "invalid_wants",
               "invalid_repair_scope", "invalid_time", "time_in_past", "field_not_allowed")})
def file_complaint(actor, body: ComplaintRequest):
    complaint = complaints.take(db.session(), actor, body.form(actor), tz=site_tz())
    answer = dict(id=complaint.id, state=complaint.state, reply_due_at=complaint.reply_due_at,
                  owner=complaint.owner_name)
    if actor.role != accounts.KIOSK:
        order = work_orders.for_complaint(db.session(), complaint.id)
        answer.update(repeat_of=complaint.repeat_of, work_order_id=order.id if order else None,
                      complaint=complaint_view(actor, complaint))
    return FiledAnswer(**answer), 201, {"Location": f"/api/v1/complaints/{complaint.id}"}


# --- the desk's lists and one complaint -------------------------------------------------

class ComplaintsQuery(Query):
    # mine: my open ones (my desk); unowned: kiosk filings nobody has acknowledged; open; all.
    view: Literal["mine", "unowned", "open", "all"] = "mine"
    state: Literal[policy.STATES] | None = None
    overdue: Literal["true", "false"] = "false"
    unit: Annotated[str, Field(max_length=LIMITS["unit"])] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None


class ComplaintList(Answer):
    complaints: list[ComplaintSummary]
    next_cursor: str | None


@operation("GET", "/complaints", summary="The desk's complaints, newest first (names and contacts masked)",
           permission="handle_complaint", query=ComplaintsQuery, answers={200: ComplaintList}, tag="complaints",
           errors={422: ("invalid_query",)})
def list_complaints(actor, query: ComplaintsQuery):
    now = datetime.now(UTC)
    rows, cursor = complaints.list_complaints(
        db.session(), now=now, owner_id=actor.user_id if query.view == "mine" else None, unowned=query.view == "unowned",
        open_only=query.view in ("mine", "unowned", "open"), state=query.state, overdue=query.overdue == "true",
        unit=query.unit, limit=query.limit, before_id=query.cursor)
    return ComplaintList(complaints=[complaint_summary(row, now) for row in rows],
                         next_cursor=str(cursor) if cursor else None)


@operation("GET", "/complaints/<id:complaint_id>", summary="One complaint with its steps and work order",
           permission="handle_complaint", answers={200: ComplaintView}, tag="complaints", errors=NOT_FOUND)
def get_complaint(actor, complaint_id):
    return complaint_view(actor, complaints.get(db.session(), complaint_id))


class TransitionRequest(Body):
    to: Choice(policy.STATES, "invalid_state")
    note: Note = ""
    # The follow-up visit: was the resident satisfied? (Only with "to": "followed_up".)
    satisfied: Flag | None = None
    # What the desk told the resident along with this step; "written" for a letter or e-mail reply.
    reply: Text(LIMITS["note"], multiline=True) | None = None
    written: Flag = False


@operation("POST", "/complaints/<id:complaint_id>/transitions", summary="Move a complaint on (who and when recorded)",
           permission="handle_complaint", body=TransitionRequest, answers={200: ComplaintView}, tag="complaints",
           errors={**NOT_FOUND, 403: NOT_OWNER,
                   409: ("invalid_transition", "written_reply_required", "work_order_not_done"),
                   422: SHAPE + ("invalid_state", "field_not_allowed")})
def transition(actor, complaint_id, body: TransitionRequest):
    complaint = complaints.transition(db.session(), actor, complaint_id, body.to, body.note,
                                      satisfied=body.satisfied, reply=body.reply, written=body.written)
    return complaint_view(actor, complaint)


class ReplyRequest(Body):
    text: Text(LIMITS["note"], multiline=True)
    written: Flag = False


@operation("POST", "/complaints/<id:complaint_id>/replies", summary="Record a reply to the resident",
           permission="handle_complaint", body=ReplyRequest, answers={200: ComplaintView}, tag="complaints",
           errors={**NOT_FOUND, 403: NOT_OWNER, 409: ("complaint_closed",), 422: SHAPE})
def reply(actor, complaint_id, body: ReplyRequest):
    return complaint_view(actor, complaints.reply(db.session(), actor, complaint_id, body.text, written=body.written))


class ReassignRequest(Body):
    owner: Text(64)
    reason: Text(LIMITS["note"], multiline=True)


@operation("POST", "/complaints/<id:complaint_id>/reassign", summary="Hand a complaint to someone else, saying why",
           permission="supervise_complaints", body=ReassignRequest, answers={200: ComplaintView}, tag="complaints",
           errors={**NOT_FOUND, 409: ("complaint_closed",), 422: SHAPE + ("invalid_owner", "same_owner")})
def reassign(actor, complaint_id, body: ReassignRequest):
    return complaint_view(actor, complaints.reassign(db.session(), actor, complaint_id, body.owner, body.reason))


class AssessmentRequest(Body):
    """Only the fields sent change; null means "not judged yet"."""

    our_cause: Flag | None = None
    reasonable: Flag | None = None
    wants: list[Choice(policy.WANTS, "invalid_wants")] | None = None


@operation("POST", "/complaints/<id:complaint_id>/assessment",
           summary="Record the judgement: whether the cause is ours, the request reasonable, what is wanted",
           permission="handle_complaint", body=AssessmentRequest, answers={200: ComplaintView}, tag="complaints",
           errors={**NOT_FOUND, 403: NOT_OWNER, 409: ("complaint_closed",), 422: SHAPE + ("invalid_wants",)})
def assess(actor, complaint_id, body: AssessmentRequest):
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    if changes.get("wants") is None:
        changes.pop("wants", None)
    return complaint_view(actor, complaints.assess(db.session(), actor, complaint_id, **changes))


# --- work orders ---------------------------------------------------------------------------

class WorkOrdersQuery(Query):
    state: Literal[("open",) + work_orders.STATES] = "open"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class WorkOrderList(Answer):
    work_orders: list[WorkOrderView]


@operation("GET", "/work-orders", summary="Repair orders for engineering, oldest first",
           permission="handle_complaint", query=WorkOrdersQuery, answers={200: WorkOrderList}, tag="complaints",
           errors={422: ("invalid_query",)})
def list_work_orders(actor, query: WorkOrdersQuery):
    orders = work_orders.list_orders(db.session(), state=query.state, limit=query.limit)
    return WorkOrderList(work_orders=[work_order_view(order) for order in orders])


class WorkOrderTransitionRequest(Body):
    to: Choice(work_orders.STATES, "invalid_state")
    note: Note = ""
    assignee: Text(64, required=False) | None = None


@operation("POST", "/work-orders/<id:order_id>/transitions",
           summary="Record engineering's progress, or the check of a public repair",
           permission="handle_complaint", body=WorkOrderTransitionRequest, answers={200: WorkOrderView},
           tag="complaints", errors={**NOT_FOUND, 409: ("invalid_transition",), 422: SHAPE + ("invalid_state",)})
def work_order_transition(actor, order_id, body: WorkOrderTransitionRequest):
    order = work_orders.transition(db.session(), actor, order_id, body.to, body.note, assignee=body.assignee)
    return work_order_view(order)
