"""Following up unclaimed items: the contact log, disposal by two people."""
from __future__ import annotations

from typing import Literal

from kiosk import contacts, ledger, overdue, policy, unclaimed
from kiosk.models import DisposalRequest, ItemContact

from .. import db
from ..auth import site_zone
from ..schema import Answer, Body, Choice, Query, Text, Timestamp
from ..security import now as clock
from . import operation
from .answers import NotificationView, PolicyView, Time, notification_view, policy_view

LIMITS = policy.TEXT_LIMITS
SHAPE = ("missing_field", "unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed")
NOT_HELD = {409: ("item_not_held",)}


# ---------------------------------------------------------------- the contact log

class ContactRequest(Body):
    method: Choice(contacts.METHODS, "invalid_method")
    outcome: Choice(contacts.OUTCOMES, "invalid_outcome")
    note: Text(LIMITS["note"], multiline=True, required=False) = ""
    promised_at: Timestamp | None = None
    at: Timestamp | None = None


class ContactView(Answer):
    id: int
    at: Time
    method: str
    outcome: str
    promised_at: Time | None
    note: str
    staff: str
    logged_at: Time


class NextContactView(Answer):
    due_at: Time
    reason: str
    methods: list[str]
    late: bool


class ContactLog(Answer):
    """An item's contact attempts, oldest first, where it stands, and when to try next."""

    item_id: int
    ticket_no: str
    policy: PolicyView
    contacts: list[ContactView]
    next_contact: NextContactView | None


def contact_view(contact: ItemContact) -> ContactView:
    return ContactView(id=contact.id, at=contact.at, method=contact.method, outcome=contact.outcome,
                       promised_at=contact.promised_at, note=contact.note, staff=contact.staff_name,
                       logged_at=contact.logged_at)


def contact_log(item_id: int) -> ContactLog:
    session, now, tz = db.session(), clock(), site_zone()
    item = ledger.get_item(session, item_id)
    log = contacts.contacts_for(session, item_id)
    upcoming = contacts.next_contact(item, log, now=now, tz=tz)
    return ContactLog(
        item_id=item.id, ticket_no=item.ticket_no, policy=policy_view(overdue.status_of(session, item, now=now, tz=tz)),
        contacts=[contact_view(c) for c in log],
        next_contact=NextContactView(due_at=upcoming.due_at, reason=upcoming.reason, methods=list(upcoming.methods),
                                     late=upcoming.late) if upcoming else None)


@operation("GET", "/items/<id:item_id>/contacts", summary="The item's contact log and the next contact due",
           permission="contacts", answers={200: ContactLog}, tag="supervisor")
def list_contacts(actor, item_id):
    return contact_log(item_id)


@operation("POST", "/items/<id:item_id>/contacts", summary="Log an attempt to reach the owner",
           permission="contacts", body=ContactRequest, answers={201: ContactLog}, tag="supervisor",
           errors={**NOT_HELD, 422: SHAPE + ("invalid_method", "invalid_outcome", "invalid_time", "time_in_past",
                                              "time_in_future", "before_deposit", "unexpected_field")})
def log_contact(actor, item_id, body: ContactRequest):
    contacts.log_contact(db.session(), actor, item_id, method=body.method, outcome=body.outcome, note=body.note,
                         promised_at=body.promised_at, at=body.at, now=clock())
    return contact_log(item_id), 201


# ---------------------------------------------------------------- disposal: one asks, another supervisor approves

class DisposalRequestBody(Body):
    action: Choice(unclaimed.ACTIONS, "invalid_action")
    reason: Text(unclaimed.REASON_LIMIT, multiline=True)


class DecisionBody(Body):
    note: Text(LIMITS["note"], multiline=True, required=False) = ""


class DisposalView(Answer):
    id: int
    item_id: int
    action: Literal[unclaimed.ACTIONS]
    reason: str
    state: Literal["pending", "approved", "declined"]
    requested_by: str
    requested_at: Time
    decided_by: str | None
    decided_at: Time | None
    decision_note: str | None


class DisposalList(Answer):
    requests: list[DisposalView]


def disposal_view(request: DisposalRequest) -> DisposalView:
    return DisposalView(id=request.id, item_id=request.item_id, action=request.action, reason=request.reason,
                        state=request.state, requested_by=request.requested_by, requested_at=request.requested_at,
                        decided_by=request.decided_by, decided_at=request.decided_at,
                        decision_note=request.decision_note)


@operation("POST", "/items/<id:item_id>/disposal-requests", summary="Ask to dispose of an overdue item or hand it "
                                                                    "to lost-and-found",
           permission="request_disposal", body=DisposalRequestBody, answers={201: DisposalView}, tag="supervisor",
           errors={409: ("item_not_held", "not_overdue", "disposal_pending", "mail_returns_to_post"),
                   422: SHAPE + ("invalid_action",)})
def request_disposal(actor, item_id, body: DisposalRequestBody):
    request = unclaimed.request_disposal(db.session(), actor, item_id, body.action, body.reason, now=clock(), tz=site_zone())
    return disposal_view(request), 201


class DisposalsQuery(Query):
    state: Literal["pending", "approved", "declined", "all"] = "pending"


@operation("GET", "/disposal-requests", summary="Disposal requests, newest first", permission="approve_disposal",
           query=DisposalsQuery, answers={200: DisposalList}, tag="supervisor")
def list_disposals(actor, query: DisposalsQuery):
    rows = unclaimed.disposal_requests(db.session(), state=None if query.state == "all" else query.state)
    return DisposalList(requests=[disposal_view(r) for r in rows])


@operation("POST", "/disposal-requests/<id:request_id>/approve", summary="Approve as the second supervisor: the "
                                                                         "item leaves the desk",
           permission="approve_disposal", body=DecisionBody, answers={200: DisposalView}, tag="supervisor",
           errors={403: ("approver_not_supervisor",),
                   409: ("second_approver_required", "disposal_not_pending", "item_not_held"), 422: SHAPE})
def approve_disposal(actor, request_id, body: DecisionBody):
    return disposal_view(unclaimed.approve_disposal(db.session(), actor, request_id, body.note, now=clock()))


@operation("POST", "/disposal-requests/<id:request_id>/decline", summary="Decline a request, or withdraw your own",
           permission="request_disposal", body=DecisionBody, answers={200: DisposalView}, tag="supervisor",
           errors={403: ("approver_not_supervisor",), 409: ("disposal_not_pending",), 422: SHAPE})
def decline_disposal(actor, request_id, body: DecisionBody):
    return disposal_view(unclaimed.decline_disposal(db.session(), actor, request_id, body.note, now=clock()))


# ---------------------------------------------------------------- a reminder to the owner, through the outbox

class NotifyRequest(Body):
    channel: Choice(unclaimed.CHANNELS, "invalid_notify_channel")


class NotifyAnswer(Answer):
    """The reminder in the outbox. ``queued`` false: the same reminder was still waiting to go out,
    and this is that one — nothing new was queued, nothing is sent twice."""

    queued: bool
    notification: NotificationView


@operation("POST", "/items/<id:item_id>/notify", summary="Remind the owner of a held item (SMS, email, or a "
                                                        "notice slip for mail), through the notifications outbox",
           permission="contacts", body=NotifyRequest, answers={201: NotifyAnswer, 200: NotifyAnswer},
           tag="supervisor", errors={**NOT_HELD, 422: SHAPE + ("invalid_notify_channel", "no_owner_address")})
def notify_owner(actor, item_id, body: NotifyRequest):
    done = unclaimed.notify_owner(db.session(), actor, item_id, body.channel, now=clock())
    return NotifyAnswer(queued=done.queued, notification=notification_view(done.message)), 201 if done.queued else 200
