"""Keys at the desk (issue 13): take a key in with the owner's consent, lend it for the day, take it back.

The loans out are listed with the borrower's phone masked; loans past due and keys
still out at the end of the day are shown as alerts here and on the desk's main
page (the notify worker raises them; the page also marks a loan overdue the moment
its time passes). Time comes from ``web.security.now``: the real clock, or the one
a test puts in ``CLOCK``.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kiosk import accounts, codes, ledger, loans, printjobs
from kiosk.db import unit_of_work
from kiosk.errors import InvalidInput, KioskError, MalformedCode
from kiosk.models import Alert, Item
from kiosk.privacy import mask_phone
from kiosk.values import Borrower, Consent, KeyDeposit, LoanForm, Person

from .. import db
from ..auth import desk
from ..errors import ApiError
from ..labels import printer
from ..messages import message
from ..security import now as clock_now
from . import blueprint
from .desk import desk_staff, place_error, problem
from .forms import LOCATION_NAMES, EmptyForm, KeyDepositPage, LendPage

bp = blueprint("keys")

APPROVERS = loans.APPROVERS


def keys_out(session, now: datetime) -> list[dict]:
    """The keys lent now, due first, each with whether it is overdue and its open alerts."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    rows = loans.list_loans(session, state="out", now=now)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({r.item_id for r in rows})))}
    alert_ids = {i for r in rows for i in (r.overdue_alert_id, r.end_of_day_alert_id) if i}
    alerts = {a.id: a for a in session.scalars(select(Alert).where(Alert.id.in_(alert_ids)))} if alert_ids else {}
    return [{
        "id": loan.id, "item_id": loan.item_id, "ticket_no": items[loan.item_id].ticket_no,
        "unit": items[loan.item_id].owner_unit, "borrower": loan.borrower_name, "company": loan.borrower_company,
        "phone_masked": mask_phone(loan.borrower_phone), "purpose": loan.purpose,
        "lent_at": loan.lent_at.astimezone(zone), "due_back_at": loan.due_back_at.astimezone(zone),
        "overdue": loans.is_overdue(loan, now), "approved_by": loan.approved_by_name,
        "alerts": [alerts[i].kind for i in (loan.overdue_alert_id, loan.end_of_day_alert_id)
                   if i in alerts and alerts[i].resolved_at is None],
    } for loan in rows]


def keys_page(status: int = 200, *, deposit: KeyDepositPage | None = None, lend: LendPage | None = None,
              refusal: dict | None = None, refusal_for: str | None = None, revealed: dict | None = None):
    session = db.session()
    now = clock_now()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return render_template(
        "desk_keys.html", deposit=deposit or KeyDepositPage(formdata=None), lend=lend or LendPage(formdata=None),
        loans=keys_out(session, now), return_form=EmptyForm(formdata=None), refusal=refusal,
        refusal_for=refusal_for, now=now.astimezone(zone), locations=LOCATION_NAMES,
        may_approve=current_user.role in APPROVERS, revealed=revealed or {},
        may_reveal=current_user.role in accounts.PERMISSIONS["reveal_phone"]), status


@bp.get("/desk/keys")
@desk_staff
def keys():
    return keys_page()


def _forget_phones(*fields) -> None:
    # As on the deposit form: a typed phone never goes back to the screen.
    for field in fields:
        typed = (field.raw_data[0] if field.raw_data else "") or ""
        field.data, field.raw_data = "", None
        if typed.strip() and not field.errors:
            field.errors = [message("phone_retype", field=field.label.text)]


@bp.post("/desk/keys")
@desk_staff
def deposit_key():
    form = KeyDepositPage()
    if not form.validate_on_submit():
        _forget_phones(form.owner_phone)
        return keys_page(422, deposit=form)
    session = db.session()
    try:
        with unit_of_work(session):
            actor, target = current_user.actor(), printer(None)
            result = loans.deposit_key(session, desk(), actor, KeyDeposit(
                owner=Person(form.owner_unit.data, form.owner_name.data, form.owner_phone.data),
                consent=Consent(given_by=form.consent_by.data, channel=form.consent_channel.data),
                handed_over=bool(form.handed_over.data), description=form.description.data or "",
                collector_name=form.collector_name.data or None, cabinet_slot=form.cabinet_slot.data or None,
                key_kind=form.key_kind.data), now=clock_now())
            # The label is the sealed envelope (unit, date, collector) and the owner's stub.
            job = printjobs.enqueue(session, actor, result.item, target.name, target.url)
            item_id, job_id = result.item.id, job.id
    except (KioskError, ApiError) as error:
        refusal = place_error(form, error) if isinstance(error, KioskError) else problem(error)
        _forget_phones(form.owner_phone)
        return keys_page(422, deposit=form, refusal=refusal, refusal_for="deposit")
    return redirect(url_for("desk.taken_in", item_id=item_id, job=job_id), code=303)


def _held_key(session, text: str) -> Item:
    """The key the clerk typed (ticket number) or scanned (its envelope's tag or the owner's stub)."""
    text = text.strip()
    item = None
    try:
        code = codes.parse(text)
    except (MalformedCode, KioskError):
        item = ledger.by_ticket(session, desk(), text)
    else:
        item = session.get(Item, code.item_id) if codes.authentic(desk().code_key, code) else None
    if item is None:
        raise InvalidInput(code="no_such_key", field="item_id", ticket_no=text[:32])
    return item


LEND_FIELDS = {"borrower.name": "borrower_name", "borrower.phone": "borrower_phone",
               "borrower.company": "borrower_company", "purpose": "purpose", "due_back_at": "due_back",
               "owner_consent": "consent_by", "owner_consent.given_by": "consent_by", "item_id": "key"}


@bp.post("/desk/keys/lend")
@desk_staff
def lend():
    form = LendPage()
    if not form.validate_on_submit():
        _forget_phones(form.borrower_phone)
        return keys_page(422, lend=form)
    session = db.session()
    now = clock_now()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    due = datetime.combine(now.astimezone(zone).date(), form.due_back.data, tzinfo=zone)
    reason = (form.approval_reason.data or "").strip()
    try:
        with unit_of_work(session):
            actor = current_user.actor()
            item = _held_key(session, form.key.data)
            loan = loans.lend(session, desk(), actor, item.id, LoanForm(
                borrower=Borrower(form.borrower_name.data, form.borrower_phone.data,
                                  form.borrower_company.data or ""),
                purpose=form.purpose.data, due_back_at=due,
                owner_consent=Consent(form.consent_by.data, form.consent_channel.data) if form.consent_by.data
                else None, approval_reason=reason or None),
                approver=actor if reason else None, now=now)
            ticket, back = item.ticket_no, loan.due_back_at.astimezone(zone)
    except KioskError as error:
        field = getattr(form, LEND_FIELDS.get(error.field or "", ""), None)
        refusal = None
        if field is not None and error.code not in ("loan_too_long", "loan_overnight"):
            field.errors = [message(error.code, **{**error.params, "field": field.label.text})]
        else:
            refusal = problem(error)
        _forget_phones(form.borrower_phone)
        return keys_page(409 if error.status == 409 else 403 if error.status == 403 else 422, lend=form,
                         refusal=refusal, refusal_for="lend")
    flash(_("%(ticket)s lent until %(time)s.", ticket=ticket, time=back.strftime("%H:%M")), "info")
    return redirect(url_for("keys.keys"), code=303)


@bp.post("/desk/loans/<int:loan_id>/return")
@desk_staff
def return_key(loan_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db.session()
    try:
        with unit_of_work(session):
            loan = loans.return_key(session, current_user.actor(), loan_id, now=clock_now())
            ticket = session.get(Item, loan.item_id).ticket_no
    except KioskError as error:
        if error.code == "not_found":
            abort(404)
        flash(message(error.code, **error.params), "error")
    else:
        flash(_("%(ticket)s is back in the key cabinet.", ticket=ticket), "info")
    return redirect(url_for("keys.keys"), code=303)


@bp.post("/desk/loans/<int:loan_id>/phone")
@desk_staff
def reveal_phone(loan_id: int):
    """The borrower's whole number, to call them about a key that is late: shown on this one
    answer (never cached, never in a redirect or a cookie) and recorded in the audit trail."""
    if current_user.role not in accounts.PERMISSIONS["reveal_phone"] or not EmptyForm().validate_on_submit():
        abort(403 if current_user.role not in accounts.PERMISSIONS["reveal_phone"] else 400)
    session = db.session()
    try:
        with unit_of_work(session):
            phone = loans.reveal_borrower_phone(session, current_user.actor(), loan_id, "desk: call the borrower",
                                                now=clock_now())
    except KioskError:
        abort(404)
    page, status = keys_page(revealed={loan_id: phone})
    return page, status, {"Cache-Control": "no-store"}
