"""Keys: deposited with the owner's consent, lent for the day, returned the same day.

DOMAIN "Keys": the owner signs the key register (《顾客委托钥匙登记表》); keys
are kept in the locked key cabinet in a sealed envelope marked with unit, date
and collector. A borrower (contractor, repair) leaves name, phone and company;
a key is lent for at most 12 hours, and a key lent today comes back today
("不过夜") — longer or overnight only with a supervisor's approval, recorded;
the owner's spare key of a handed-over unit is lent only with the owner's
consent, recorded. Keys still out at the end of the day and loans past due
raise alerts.

The borrower's phone is personal data: screens show it masked, and
``reveal_borrower_phone`` hands the full number out with an audit record.
"""
from __future__ import annotations

from datetime import UTC, datetime, time

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import alerts, audit, ledger, policy
from .errors import Conflict, ConsentRequired, Forbidden, InvalidInput, LoanOvernight, LoanTooLong, NotFound
from .models import Alert, KeyLoan
from .privacy import mask_phone
from .refusals import refuse
from .values import Actor, DepositForm, Desk, KeyDeposit, LoanForm

LIMIT_HOURS = 12
# The desk's day ends here: a key still out is reported, not left for the morning.
END_OF_DAY = time(22, 0)
APPROVERS = ("supervisor", "admin")
STATES = ("out", "overdue", "returned", "all")


def deposit_key(session: Session, desk: Desk, actor: Actor, form: KeyDeposit,
                now: datetime | None = None) -> ledger.Deposit:
    """Take a key in: the owner's consent (their signature on the key register) is required;
    the key goes to the key cabinet; its label is the sealed envelope (unit, date, collector)
    and the owner's stub."""
    if form.consent is None:
        raise ConsentRequired(field="consent")
    return ledger.deposit(session, desk, actor, DepositForm(
        kind="key", owner=form.owner, description=form.description, designated_name=form.collector_name,
        designated_phone=form.collector_phone, location="key_cabinet", location_detail=form.cabinet_slot,
        consent=policy.check_consent(form.consent, "consent"), key_handed_over=bool(form.handed_over),
    ), now=now)


def _rules_broken(lent_at: datetime, due: datetime, desk: Desk) -> list:
    broken = []
    hours = (due - lent_at).total_seconds() / 3600
    if hours > LIMIT_HOURS:
        broken.append(LoanTooLong(hours=round(hours, 1), limit=LIMIT_HOURS))
    if due.astimezone(desk.zone).date() != lent_at.astimezone(desk.zone).date():
        broken.append(LoanOvernight(due_back_at=due.isoformat(), timezone=desk.timezone))
    return broken


def lend(session: Session, desk: Desk, actor: Actor, item_id: int, form: LoanForm, *,
         approver: Actor | None = None, now: datetime | None = None) -> KeyLoan:
    """Lend a held key. ``approver``: the supervisor (authenticated by the caller) who approves a
    loan the rules refuse; recorded with the rules approved."""
    now = now or datetime.now(UTC)
    name = policy.required_text(form.borrower.name, "borrower.name", "name")
    phone = policy.check_phone(form.borrower.phone, "borrower.phone")
    company = (form.borrower.company or "").strip()
    if len(company) > policy.TEXT_LIMITS["company"]:
        raise InvalidInput(code="too_long", field="borrower.company", limit=policy.TEXT_LIMITS["company"])
    purpose = policy.required_text(form.purpose, "purpose", "purpose")
    due = form.due_back_at
    if due is None or due.tzinfo is None:
        raise InvalidInput(code="invalid_time", field="due_back_at")
    if due <= now:
        raise InvalidInput(code="time_in_past", field="due_back_at")
    consent = policy.check_consent(form.owner_consent, "owner_consent") if form.owner_consent else None
    reason = (form.approval_reason or "").strip()[:policy.TEXT_LIMITS["reason"]] or None

    item = ledger.get_item(session, item_id, lock=True)
    if item.kind != "key":
        raise InvalidInput(code="not_a_key", field="item_id")
    if item.status == "lent":
        raise Conflict(code="key_already_lent", ticket_no=item.ticket_no)
    ledger.check_held(item)
    if item.key_handed_over and consent is None:
        raise ConsentRequired(field="owner_consent")
    broken = _rules_broken(now, due, desk)
    if broken and approver is None:
        raise refuse(broken[0], "lend_refused", actor, item_id=item.id, now=now, details={
            "ticket_no": item.ticket_no, "rules": [rule.code for rule in broken],
            "due_back_at": due.isoformat()})
    if broken and approver.role not in APPROVERS:
        raise Forbidden(code="approval_not_allowed", role=approver.role)

    loan = KeyLoan(
        item_id=item.id, state="out", borrower_name=name, borrower_phone=phone, borrower_company=company,
        purpose=purpose, lent_at=now, due_back_at=due, lent_by_id=actor.user_id, lent_by_name=actor.name,
        consent_by=consent.given_by if consent else None, consent_channel=consent.channel if consent else None,
        approved_by_id=approver.user_id if broken else None, approved_by_name=approver.name if broken else None,
        approved_rules=",".join(rule.code for rule in broken) or None, approval_reason=reason if broken else None,
    )
    session.add(loan)
    item.status = "lent"
    session.flush()
    audit.append(session, "lend", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "loan_id": loan.id, "borrower": name, "company": company,
        "phone": mask_phone(phone), "purpose": purpose, "due_back_at": due.isoformat(),
        "consent": {"by": loan.consent_by, "channel": loan.consent_channel} if consent else None,
        "approved_by": loan.approved_by_name, "approved_rules": [rule.code for rule in broken],
    })
    return loan


def get_loan(session: Session, loan_id: int) -> KeyLoan:
    loan = session.get(KeyLoan, loan_id)
    if loan is None:
        raise NotFound(id=loan_id)
    return loan


def return_key(session: Session, actor: Actor, loan_id: int, now: datetime | None = None) -> KeyLoan:
    """The key is back in the cabinet; the loan's alerts, if any, are resolved."""
    now = now or datetime.now(UTC)
    item = ledger.get_item(session, get_loan(session, loan_id).item_id, lock=True)
    loan = session.get(KeyLoan, loan_id, with_for_update=True, populate_existing=True)
    if loan.state != "out":
        raise Conflict(code="loan_already_returned", id=loan_id)
    loan.state, loan.returned_at, loan.returned_by_name = "returned", now, actor.name
    item.status = "held"
    late = max(0, int((now - loan.due_back_at).total_seconds() // 60))
    audit.append(session, "key_return", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "loan_id": loan.id, "minutes_late": late})
    for alert_id in (loan.overdue_alert_id, loan.end_of_day_alert_id):
        alert = session.get(Alert, alert_id) if alert_id else None
        if alert is not None and alert.resolved_at is None:
            alerts.resolve_alert(session, actor, alert_id, note="key returned", now=now)
    return loan


def is_overdue(loan: KeyLoan, now: datetime) -> bool:
    return loan.state == "out" and loan.due_back_at < now


def list_loans(session: Session, *, state: str = "out", now: datetime | None = None,
               limit: int = 200) -> list[KeyLoan]:
    """``out``: keys lent now (due first); ``overdue``: of those, the ones past due; ``returned``, ``all``."""
    now = now or datetime.now(UTC)
    if state not in STATES:
        raise InvalidInput(code="invalid_query", field="state", choices=STATES)
    query = select(KeyLoan)
    if state in ("out", "overdue"):
        query = query.where(KeyLoan.state == "out").order_by(KeyLoan.due_back_at, KeyLoan.id)
        if state == "overdue":
            query = query.where(KeyLoan.due_back_at < now)
    else:
        if state == "returned":
            query = query.where(KeyLoan.state == "returned")
        query = query.order_by(KeyLoan.id.desc())
    return list(session.scalars(query.limit(limit)))


def loans_of(session: Session, item_id: int) -> list[KeyLoan]:
    return list(session.scalars(select(KeyLoan).where(KeyLoan.item_id == item_id).order_by(KeyLoan.id)))


def reveal_borrower_phone(session: Session, actor: Actor, loan_id: int, reason: str = "",
                          now: datetime | None = None) -> str:
    """The borrower's full phone number, for a call that must be made; the reveal is audited."""
    loan = get_loan(session, loan_id)
    audit.append(session, "reveal", actor, item_id=loan.item_id, now=now or datetime.now(UTC), details={
        "loan_id": loan.id, "field": "borrower.phone", "reason": reason.strip()[:policy.TEXT_LIMITS["reason"]]})
    return loan.borrower_phone


def end_of_day(lent_at: datetime, desk: Desk) -> datetime:
    """When a loan counts as out at the end of its day: 22:00 local on the day it was lent
    (a loan made after that is out at the end of the day from the start)."""
    local = lent_at.astimezone(desk.zone)
    return max(lent_at, datetime.combine(local.date(), END_OF_DAY, tzinfo=desk.zone).astimezone(UTC))


def raise_due_alerts(session: Session, desk: Desk, actor: Actor, now: datetime | None = None) -> list[Alert]:
    """Alert the desk and supervisors: each loan past due once, each key still out at the end
    of its day once (not when a supervisor approved it overnight). Idempotent; the notify
    worker calls it every pass."""
    now = now or datetime.now(UTC)
    candidates = session.scalars(select(KeyLoan.id).where(
        KeyLoan.state == "out",
        or_(KeyLoan.overdue_alert_id.is_(None), KeyLoan.end_of_day_alert_id.is_(None))).order_by(KeyLoan.id))
    raised = []
    for loan_id in list(candidates):
        loan = session.get(KeyLoan, loan_id)
        overdue = loan.overdue_alert_id is None and loan.due_back_at < now
        overnight_approved = "loan_overnight" in (loan.approved_rules or "")
        out_late = (loan.end_of_day_alert_id is None and not overnight_approved
                    and now >= end_of_day(loan.lent_at, desk))
        if not (overdue or out_late):
            continue
        item = ledger.get_item(session, loan.item_id, lock=True)
        loan = session.get(KeyLoan, loan_id, with_for_update=True, populate_existing=True)
        if loan.state != "out":
            continue
        details = {"ticket_no": item.ticket_no, "loan_id": loan.id, "unit": item.owner_unit,
                   "borrower": loan.borrower_name, "company": loan.borrower_company,
                   "phone": mask_phone(loan.borrower_phone), "due_back_at": loan.due_back_at.isoformat()}
        if overdue and loan.overdue_alert_id is None:
            alert = alerts.raise_alert(session, actor, "key_loan_overdue", item.id, now, details)
            loan.overdue_alert_id = alert.id
            raised.append(alert)
        if out_late and loan.end_of_day_alert_id is None:
            alert = alerts.raise_alert(session, actor, "key_out_at_end_of_day", item.id, now, details)
            loan.end_of_day_alert_id = alert.id
            raised.append(alert)
    session.flush()
    return raised
