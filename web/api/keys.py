"""Keys: deposit with the owner's consent, lend for the day, return; the loans out and overdue."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select

from kiosk import loans, policy, printjobs
from kiosk.models import Alert, Item, KeyLoan
from kiosk.privacy import mask_phone
from kiosk.values import Borrower, Consent, KeyDeposit, LoanForm, Person

from .. import db
from ..auth import desk
from ..labels import printer
from ..schema import Answer, Body, Choice, Flag, Name, Pattern, Phone, Query, Text, Timestamp
from . import operation
from .answers import AlertRef, Time
from .answers import Consent as ConsentAnswer
from .items import BAD_JSON, NOT_FOUND, SHAPE, DepositAnswer, DesignatedCollectorIn, PrinterName, deposit_answer

LIMITS = policy.TEXT_LIMITS
Email = Pattern(policy.EMAIL_PATTERN, "invalid_email", LIMITS["email"])


class ConsentIn(Body):
    """The owner's consent as the desk got it: who gave it, and how (signed, in person, by phone, in writing)."""

    given_by: Name()
    channel: Choice(policy.CONSENT_CHANNELS, "invalid_consent_channel")

    def value(self) -> Consent:
        return Consent(given_by=self.given_by, channel=self.channel)


class KeyOwnerIn(Body):
    unit: Text(LIMITS["unit"])
    name: Name()
    phone: Phone
    email: Email | None = None


class KeyDepositRequest(Body):
    owner: KeyOwnerIn
    consent: ConsentIn
    handed_over: Flag
    description: Text(LIMITS["description"], multiline=True, required=False) = ""
    collector: DesignatedCollectorIn | None = None
    cabinet_slot: Text(LIMITS["slot"]) | None = None
    printer: PrinterName | None = None


@operation("POST", "/keys", summary="Take a key in, with the owner's signed consent, into the key cabinet",
           permission="deposit", body=KeyDepositRequest, answers={201: DepositAnswer}, tag="keys",
           errors={**BAD_JSON, 422: SHAPE + ("invalid_phone", "invalid_email", "invalid_consent_channel",
                                             "unknown_printer")})
def deposit_key(actor, body: KeyDepositRequest):
    target = printer(body.printer)
    session = db.session()
    owner = body.owner
    result = loans.deposit_key(session, desk(), actor, KeyDeposit(
        owner=Person(owner.unit, owner.name, owner.phone, owner.email), consent=body.consent.value(),
        handed_over=body.handed_over, description=body.description,
        collector_name=body.collector.name if body.collector else None,
        collector_phone=body.collector.phone if body.collector else None, cabinet_slot=body.cabinet_slot))
    # The label is the sealed envelope (unit, date, collector) and the owner's stub.
    job = printjobs.enqueue(session, actor, result.item, target.name, target.url)
    return deposit_answer(DepositAnswer, result, job, actor.role)


class BorrowerIn(Body):
    name: Name()
    phone: Phone
    company: Text(LIMITS["company"], required=False) = ""


class ApprovalIn(Body):
    """A supervisor approving, with their own token, a loan the rules refuse."""

    reason: Text(LIMITS["reason"])


class LoanRequest(Body):
    borrower: BorrowerIn
    purpose: Text(LIMITS["purpose"])
    due_back_at: Timestamp
    owner_consent: ConsentIn | None = None
    approval: ApprovalIn | None = None


class BorrowerView(Answer):
    name: str
    company: str
    phone_masked: str


class ApprovalView(Answer):
    by: str
    rules: list[str]
    reason: str | None


class LoanView(Answer):
    id: int
    item_id: int
    ticket_no: str
    unit: str
    state: Literal["out", "returned"]
    overdue: bool
    borrower: BorrowerView
    purpose: str
    lent_at: Time
    due_back_at: Time
    lent_by: str
    owner_consent: ConsentAnswer | None
    approval: ApprovalView | None
    returned_at: Time | None
    returned_by: str | None
    alerts: list[AlertRef]


def loan_view(loan: KeyLoan, item: Item, alerts: dict[int, Alert], now: datetime) -> LoanView:
    return LoanView(
        id=loan.id, item_id=loan.item_id, ticket_no=item.ticket_no, unit=item.owner_unit, state=loan.state,
        overdue=loans.is_overdue(loan, now),
        borrower=BorrowerView(name=loan.borrower_name, company=loan.borrower_company,
                              phone_masked=mask_phone(loan.borrower_phone)),
        purpose=loan.purpose, lent_at=loan.lent_at, due_back_at=loan.due_back_at, lent_by=loan.lent_by_name,
        owner_consent=(ConsentAnswer(given_by=loan.consent_by, channel=loan.consent_channel)
                       if loan.consent_by else None),
        approval=(ApprovalView(by=loan.approved_by_name, rules=loan.approved_rules.split(","),
                               reason=loan.approval_reason) if loan.approved_by_name else None),
        returned_at=loan.returned_at, returned_by=loan.returned_by_name,
        alerts=[AlertRef(id=alerts[i].id, kind=alerts[i].kind)
                for i in (loan.overdue_alert_id, loan.end_of_day_alert_id) if i in alerts])


def loan_views(session, rows: list[KeyLoan]) -> list[LoanView]:
    """Views of several loans, their items and alerts read in two queries, not two per loan."""
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({r.item_id for r in rows})))}
    alert_ids = {i for r in rows for i in (r.overdue_alert_id, r.end_of_day_alert_id) if i}
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))} if alert_ids else {}
    now = datetime.now(UTC)
    return [loan_view(row, items[row.item_id], alerts, now) for row in rows]


@operation("POST", "/items/<id:item_id>/loans", summary="Lend a held key for the day", permission="lend_key",
           body=LoanRequest, answers={201: LoanView}, tag="keys", errors={
               **BAD_JSON, 403: ("approval_not_allowed",), **NOT_FOUND,
               409: ("key_already_lent", "already_released", "item_not_held"),
               422: SHAPE + ("invalid_phone", "invalid_time", "time_in_past", "invalid_consent_channel",
                             "not_a_key", "owner_consent_required", "loan_too_long", "loan_overnight")})
def lend(actor, item_id, body: LoanRequest):
    session = db.session()
    borrower = body.borrower
    loan = loans.lend(session, desk(), actor, item_id, LoanForm(
        borrower=Borrower(borrower.name, borrower.phone, borrower.company), purpose=body.purpose,
        due_back_at=body.due_back_at, owner_consent=body.owner_consent.value() if body.owner_consent else None,
        approval_reason=body.approval.reason if body.approval else None),
        approver=actor if body.approval else None)
    return loan_views(session, [loan])[0], 201


@operation("POST", "/loans/<id:loan_id>/return", summary="The key is back in the cabinet", permission="lend_key",
           answers={200: LoanView}, tag="keys", errors={**NOT_FOUND, 409: ("loan_already_returned",)})
def return_key(actor, loan_id):
    session = db.session()
    return loan_views(session, [loans.return_key(session, actor, loan_id)])[0]


class LoansQuery(Query):
    state: Literal[loans.STATES] = "out"
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class LoanList(Answer):
    loans: list[LoanView]


@operation("GET", "/loans", summary="Keys lent out (due first), overdue, returned or all", permission="read_loans",
           query=LoansQuery, answers={200: LoanList}, tag="keys", errors={422: ("invalid_query",)})
def list_loans(actor, query: LoansQuery):
    session = db.session()
    return LoanList(loans=loan_views(session, loans.list_loans(session, state=query.state, limit=query.limit)))


class RevealRequest(Body):
    reason: Text(LIMITS["reason"], required=False) = ""


class RevealedPhone(Answer):
    loan_id: int
    phone: str


@operation("POST", "/loans/<id:loan_id>/phone", summary="The borrower's full phone number (the reveal is audited)",
           permission="reveal_phone", body=RevealRequest, answers={200: RevealedPhone}, tag="keys",
           errors={**BAD_JSON, **NOT_FOUND, 422: SHAPE})
def reveal_phone(actor, loan_id, body: RevealRequest):
    phone = loans.reveal_borrower_phone(db.session(), actor, loan_id, body.reason)
    return RevealedPhone(loan_id=loan_id, phone=phone), 200, {"Cache-Control": "no-store"}
