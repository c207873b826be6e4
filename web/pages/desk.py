"""The staff desk: take an item in, see its label's print status, hand items out, watch pending pickups."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from kiosk import accounts, audit, claims, codes, ledger, loans, outbox, owners, pickups, policy, printjobs
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import Item, PrintJob
from kiosk.privacy import mask_name, mask_phone
from kiosk.values import Collector, DepositForm, Person

from .. import db
from ..auth import desk
from ..errors import ApiError
from ..labels import printer
from ..limits import rate_limit
from ..messages import message
from ..security import now as clock_now
from . import blueprint
from .forms import (
    LOCATION_NAMES,
    EmptyForm,
    LostStubForm,
    MailPickupForm,
    MoveForm,
    ReleaseForm,
    ReprintForm,
    ReturnToPostForm,
    UndeliverableForm,
)
from .forms import DepositForm as DepositPage
from .wording import channel_names, history_names, notice_state_names, status_names
from .wording import refusal as problem

bp = blueprint("desk")

# Form fields by the domain's field names, so a refusal lands beside what it is about.
FIELDS = {"owner.unit": "owner_unit", "owner.name": "owner_name", "owner.phone": "owner_phone",
          "expected_pickup_at": "expected_pickup", "designated_name": "collector_name",
          "designated_phone": "collector_phone", "collector.name": "collector_name",
          "collector.id_type": "id_type", "collector.id_last4": "id_last4"}


def desk_staff(view):
    """Signed-in desk staff only (staff, supervisor, admin): anyone else gets 403."""

    @login_required
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user.role not in accounts.PERMISSIONS["deposit"]:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def place_error(form, error: KioskError) -> dict | None:
    """Put a domain error beside its field; answer it as the page's banner if it has no field."""
    name = FIELDS.get(error.field or "", error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [message(error.code, **{**error.params, "field": field.label.text})]
        return None
    return problem(error)


def _deposit_form(form: DepositPage) -> DepositForm:
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    pickup = form.expected_pickup.data
    return DepositForm(
        kind=form.kind.data, owner=Person(unit=form.owner_unit.data, name=form.owner_name.data,
                                          phone=form.owner_phone.data),
        size=form.size.data, description=form.description.data or "",
        expected_pickup_at=pickup.replace(tzinfo=zone) if pickup else None,
        designated_name=form.collector_name.data or None, designated_phone=form.collector_phone.data or None,
        location=form.location.data or None, declared=tuple(form.declared.data or ()),
        disclaimer_acknowledged=bool(form.disclaimer_acknowledged.data))


def pending_pickups(session, now: datetime) -> list[dict]:
    """Items a kiosk said to collect at the desk in the last hours and still held, oldest first."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return [{"item_id": p.item.id, "ticket_no": p.item.ticket_no, "unit": p.item.owner_unit,
             "location": p.item.location, "device": p.device, "at": p.at.astimezone(zone), "in_hand_by": p.in_hand_by}
            for p in pickups.pending(session, now)]


def forget_phones(form: DepositPage) -> None:
    """A posted form shown again never carries a typed phone number back to the screen
    (issue 12: no full phone on any page). Staff type it again; a phone taken from a
    suggested owner (``owner_ref``) is kept by reference and needs no typing."""
    for field in (form.owner_phone, form.collector_phone):
        typed = (field.raw_data[0] if field.raw_data else "") or ""
        field.data, field.raw_data = "", None
        if typed.strip() and not field.errors:
            field.errors = [message("phone_retype", field=field.label.text)]


def known_owner(form: DepositPage) -> owners.KnownOwner | None:
    """The suggested owner the form refers to, if it still names them; their phone fills a blank phone."""
    owner = owners.resolve(db.session(), form.owner_ref.data, form.owner_unit.data or "", form.owner_name.data or "")
    if owner is not None and not (form.owner_phone.data or "").strip():
        form.owner_phone.data = owner.phone
    return owner


def pickup_presets(now: datetime) -> list[dict]:
    """Common expected pickups as one click each (the field still takes any time), in the desk's zone."""
    local = now.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    hour = local.replace(minute=0, second=0, microsecond=0)
    tomorrow = (local + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    presets = []
    if local.hour < 19:
        presets.append((_("Tonight 20:00"), local.replace(hour=20, minute=0, second=0, microsecond=0)))
    presets += [(_("Tomorrow 10:00"), tomorrow), (_("In 3 days"), hour + timedelta(days=3)),
                (_("In a week"), hour + timedelta(days=7)), (_("In a month"), hour + timedelta(days=30))]
    return [{"label": label, "value": when.strftime("%Y-%m-%dT%H:%M")} for label, when in presets]


def desk_page(status: int, **context):
    from .keys import keys_out

    context.setdefault("refusal", None)
    context.setdefault("outcome", None)
    context.setdefault("owner", None)
    now = clock_now()
    return render_template("desk.html", locations=LOCATION_NAMES,
                           locations_json={k: str(v) for k, v in LOCATION_NAMES.items()},
                           pending=pending_pickups(db.session(), now), keys=keys_out(db.session(), now),
                           presets=pickup_presets(now),
                           attention=print_trouble(db.session()), retry_form=EmptyForm(formdata=None),
                           **context), status


def print_trouble(session) -> list[dict]:
    """Print jobs staff must act on: failed, still queued after several attempts, or in doubt
    (the printer may have taken it when its worker died: staff look in the tray)."""
    trouble = []
    for job in printjobs.list_jobs(session, state="open"):
        stuck = job.status == "queued" and job.attempts >= printjobs.STUCK_AFTER
        if job.status in ("failed", "in_doubt") or stuck:
            trouble.append({"id": job.id, "item_id": job.item_id, "ticket_no": session.get(Item, job.item_id).ticket_no,
                            "status": "stuck" if stuck else job.status, "printer": job.printer,
                            "error": job.last_error_code, "attempts": job.attempts})
    return trouble


def settle_print(job_id: int, work, done: str):
    """Run staff's answer about one print job; back to the desk with what happened."""
    session = db.session()
    try:
        with unit_of_work(session):
            work(session)
    except KioskError as error:
        flash(message(error.code, **error.params), "error")
    else:
        flash(done, "info")
    return redirect(url_for("desk.deposit"), code=303)


@bp.post("/desk/print-jobs/<int:job_id>/confirm")
@desk_staff
def confirm_print(job_id: int):
    """A label in doubt is in the tray: it printed."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    return settle_print(job_id, lambda session: printjobs.confirm(session, current_user.actor(), job_id),
                        _("Marked printed."))


@bp.post("/desk/print-jobs/<int:job_id>/reprint")
@desk_staff
def reprint_in_doubt(job_id: int):
    """Nobody can tell whether a label in doubt came out: its stub is revoked and a new one printed."""
    form = ReprintForm()
    if not form.validate_on_submit():
        flash(_("Say why the label is printed again."), "error")
        return redirect(url_for("desk.deposit"), code=303)

    def work(session):
        job = session.get(PrintJob, job_id)
        target = printer(job.printer if job is not None else None)
        printjobs.reprint_in_doubt(session, current_user.actor(), job_id, target.name, target.url, form.reason.data)

    return settle_print(job_id, work, _("The old stub no longer works; a new one is printing."))


@bp.post("/desk/print-jobs/<int:job_id>/retry")
@desk_staff
def retry_print(job_id: int):
    return settle_print(job_id, lambda session: printjobs.retry(session, job_id),
                        _("The label is sent to the printer again."))


@bp.route("/desk", methods=["GET", "POST"])
@desk_staff
def deposit():
    form = DepositPage()
    refusal, owner = None, None
    if request.method == "POST":
        owner = known_owner(form)
    if form.validate_on_submit():
        session = db.session()
        try:
            with unit_of_work(session):
                actor = current_user.actor()
                target = printer(None)
                result = ledger.deposit(session, desk(), actor, _deposit_form(form))
                job = printjobs.enqueue(session, actor, result.item, target.name, target.url)
                item_id, job_id = result.item.id, job.id
            return redirect(url_for("desk.taken_in", item_id=item_id, job=job_id), code=303)
        except KioskError as error:
            refusal = place_error(form, error)
        except ApiError as error:
            refusal = {"code": error.code, "text": message(error.code, **error.params), "suggestion": None}
    status = 422 if form.errors or refusal else 200
    if request.method == "POST":
        forget_phones(form)
    return desk_page(status, form=form, refusal=refusal, release=ReleaseForm(formdata=None),
                     owner={"ref": owner.ref, "phone_masked": mask_phone(owner.phone)} if owner else None)


@bp.get("/desk/owners")
@desk_staff
def owner_suggestions():
    """The unit's known owners for the deposit form: names, masked phones, a reference each."""
    found = owners.suggest(db.session(), (request.args.get("unit") or "")[:64], (request.args.get("name") or "")[:64])
    answer = jsonify(owners=[{"ref": o.ref, "unit": o.unit, "name": o.name, "phone_masked": mask_phone(o.phone),
                              "source": o.source} for o in found])
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.post("/desk/pickups/<int:item_id>/in-hand")
@desk_staff
def take_in_hand(item_id: int):
    """Go and fetch an item a resident waits for: the other clerks see it is in hand."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    session = db.session()
    try:
        with unit_of_work(session):
            pickups.take_in_hand(session, current_user.actor(), item_id, now=clock_now())
            item = session.get(Item, item_id)
            ticket, place = item.ticket_no, LOCATION_NAMES.get(item.location, item.location)
    except KioskError as error:
        if error.code == "not_found":
            abort(404)
        flash(message(error.code, **error.params), "error")
    else:
        flash(_("Fetch %(ticket)s from %(place)s.", ticket=ticket, place=place), "info")
    return redirect(url_for("desk.deposit"), code=303)


def item_page(item_id: int, status: int = 200, *, done: str | None = None, refusal: dict | None = None,
              move: MoveForm | None = None, reprint: ReprintForm | None = None, lost: LostStubForm | None = None,
              pickup: MailPickupForm | None = None, undeliverable: UndeliverableForm | None = None,
              to_post: ReturnToPostForm | None = None, preview: bool = False):
    """One item: the ticket, where it is, its label's print status, what staff may do with it, its history.

    The label picture carries the stub's code, so the page shows the ticket number and
    the print status only, never the picture."""
    session = db.session()
    try:
        item = ledger.get_item(session, item_id)
    except KioskError:
        abort(404)
    job = session.scalars(select(PrintJob).where(PrintJob.item_id == item.id).order_by(PrintJob.id.desc())).first()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    history = [{"at": e.at.astimezone(zone), "event": e.event, "actor": e.actor}
               for e in audit.events_for(session, item.id)]
    # A parcel's notices, attempt by attempt, with how each went (issue 13); a key's loans.
    notices = [{"attempt": n.attempt + 1, "channel": n.channel, "status": n.status,
                "at": (n.sent_at or n.created_at).astimezone(zone), "error": n.last_error_code}
               for n in outbox.for_item(session, item.id)] if item.kind in policy.NOTICE_KINDS else []
    lent = [{"borrower": loan.borrower_name, "company": loan.borrower_company, "state": loan.state,
             "phone_masked": mask_phone(loan.borrower_phone), "lent_at": loan.lent_at.astimezone(zone),
             "due_back_at": loan.due_back_at.astimezone(zone)}
            for loan in loans.loans_of(session, item.id)] if item.kind == "key" else []
    return render_template(
        "desk_item.html", item=item, job=job, locations=LOCATION_NAMES, history=history, done=done, preview=preview,
        statuses=status_names(), events=history_names(), notices=notices, lent=lent, channels=channel_names(),
        notice_states=notice_state_names(),
        refusal=refusal, owner_name=mask_name(item.owner_name), owner_phone=mask_phone(item.owner_phone),
        move=move or MoveForm(formdata=None, location=item.location), reprint=reprint or ReprintForm(formdata=None),
        lost=lost or LostStubForm(formdata=None), pickup=pickup or MailPickupForm(formdata=None),
        undeliverable=undeliverable or UndeliverableForm(formdata=None),
        to_post=to_post or ReturnToPostForm(formdata=None), mail_kinds=policy.NOTICE_KINDS), status


@bp.get("/desk/items/<int:item_id>")
@desk_staff
@rate_limit("read_item")  # staff find items by ticket, unit or scan, not by walking ids
def taken_in(item_id: int):
    # Right after the deposit (?job=), the label's preview: the API draws it with the stub's code
    # left out, and each view is an audit event, so other visits to the page do not load it.
    return item_page(item_id, preview="job" in request.args)


def item_action(item_id: int, form, work, done: str, form_name: str):
    """Run one change to an item from its page, in its own transaction; show the item again."""
    if not form.validate_on_submit():
        return item_page(item_id, 422, **{form_name: form})
    session = db.session()
    try:
        with unit_of_work(session):
            work(session, form)
    except KioskError as error:
        return item_page(item_id, 409 if error.status == 409 else 422, refusal=place_error(form, error),
                         **{form_name: form})
    except ApiError as error:
        return item_page(item_id, 422, refusal={"code": error.code, "text": message(error.code, **error.params),
                                                "suggestion": None}, **{form_name: form})
    return item_page(item_id, done=done)


@bp.post("/desk/items/<int:item_id>/move")
@desk_staff
def move(item_id: int):
    def work(session, form):
        ledger.move(session, current_user.actor(), item_id, form.location.data, form.location_detail.data or None)

    return item_action(item_id, MoveForm(), work, "moved", "move")


@bp.post("/desk/items/<int:item_id>/reprint")
@desk_staff
def reprint(item_id: int):
    def work(session, form):
        target = printer(None)
        item = ledger.get_item(session, item_id, lock=True)
        printjobs.enqueue(session, current_user.actor(), item, target.name, target.url, reprint=True,
                          reason=form.reason.data)

    return item_action(item_id, ReprintForm(), work, "reprinted", "reprint")


@bp.post("/desk/items/<int:item_id>/lost-stub")
@desk_staff
def lost_stub(item_id: int):
    def work(session, form):
        actor = current_user.actor()
        report = claims.report_lost_stub(session, desk(), actor, item_id, unit=form.unit.data,
                                         name=form.name.data, reissue=bool(form.reissue.data))
        if report.new_claim_code:
            # The new stub prints at once; the tag on the item stays as it is.
            target = printer(None)
            printjobs.enqueue(session, actor, report.item, target.name, target.url, reprint=True,
                              part="stub" if ledger.claim_role(report.item) == "stub" else None,
                              reason="lost stub reissued")

    form = LostStubForm()
    return item_action(item_id, form, work, "reissued" if form.reissue.data else "lost", "lost")


@bp.get("/desk/search")
@desk_staff
@rate_limit("lookup")
def search():
    text = (request.args.get("q") or "")[:1024]
    found = ledger.search(db.session(), desk(), text) if text.strip() else None
    return render_template("desk_search.html", text=text, found=found, locations=LOCATION_NAMES,
                           mask_name=mask_name, statuses=status_names())


@bp.post("/desk/release")
@desk_staff
def release():
    form = ReleaseForm()
    outcome = None
    if form.validate_on_submit():
        session = db.session()
        stub_code, item_id = form.stub_code.data, None
        try:
            item_id = codes.parse(stub_code).item_id
        except KioskError as error:
            # Not a code: the ticket number, typed when the stub is lost (identity is then required).
            item = ledger.by_ticket(session, desk(), stub_code)
            if item is None:
                outcome = {"ok": False, **problem(error)}
            else:
                stub_code, item_id = None, item.id
        if item_id is not None:
            collector = None
            if form.collector_name.data:
                collector = Collector(name=form.collector_name.data, id_type=form.id_type.data or "",
                                      id_last4=(form.id_last4.data or "").upper())
            try:
                with unit_of_work(session):
                    item = ledger.release(session, desk(), current_user.actor(), item_id,
                                          tag_code=form.tag_code.data, stub_code=stub_code, collector=collector)
                    outcome = {"ok": True, "ticket_no": item.ticket_no}
            except KioskError as error:
                outcome = {"ok": False, **(place_error(form, error) or problem(error))}
        if outcome and outcome["ok"]:
            form = ReleaseForm(formdata=None)
    if len(form.id_last4.data or "") > 4:
        # Someone typed more than the last four characters: never show an ID number back.
        form.id_last4.data, form.id_last4.raw_data = "", None
        form.id_last4.errors = [message("invalid_id_last4", field=form.id_last4.label.text)]
    status = 200 if outcome and outcome["ok"] else 422
    return desk_page(status, form=DepositPage(formdata=None), release=form, outcome=outcome)
