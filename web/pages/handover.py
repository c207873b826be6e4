"""Shift handover (交接班) and the monthly key count (每月盘点) as pages.

The outgoing clerk opens a count; the incoming one scans the tags on the shelves
(a keyboard-wedge scanner types into the scan field; the page's script sends each
tag to ``POST /api/v1/handovers/{id}/scans``, and without the script the form posts
here); both pages follow the progress live on ``/events``; every difference is
explained or escalated; each signs with their own login; the printable sheet
carries the counts, the differences, both signatures and the audit chain's head.
"""
from __future__ import annotations

from datetime import datetime
from functools import wraps
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from kiosk import accounts, handover, policy, reconciliation
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import Handover

from .. import db
from ..api.handovers import full_view
from ..auth import desk
from ..messages import has_message, message
from ..schema import looks_like_id_number
from . import blueprint
from .forms import LOCATION_NAMES, EmptyForm
from .handover_forms import CancelForm, ExplainForm, OpenForm, ScanForm, UnfinishedForm
from .wording import kind_names
from .wording import refusal as problem

bp = blueprint("handover")

# The sheet's order of counts; the words for each are the catalogue's (finding.*) or below.
# How many of the latest scans the count page lists when it opens (the live ones go on top).
LATEST = 15
COUNTS = ("expected", "found", "missing", "unexpected", "wrong_place", "extra", "gone", "on_loan")


def allowed(permission: str):
    """Signed-in users whose role has ``permission`` (kiosk.accounts.PERMISSIONS); others get 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(*args, **kwargs):
            if current_user.role not in accounts.PERMISSIONS[permission]:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def local(value) -> datetime | None:
    """A time (or the API's ISO text of one) on the desk's wall clock."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def words() -> dict:
    """What the pages (and the script) call findings, differences, places, kinds and counts."""
    findings = {f: message(f"finding.{f}") for f in ("found", "extra", "unexpected", "missing", "gone", "on_loan")}
    return {
        "findings": findings,
        "differences": {"missing": findings["missing"], "unexpected": findings["unexpected"],
                        "wrong_place": message("discrepancy.wrong_place")},
        "counts": {"expected": _("Expected"), **findings, "wrong_place": message("discrepancy.wrong_place"),
                   "unexplained": _("Not explained")},
        "locations": {k: str(v) for k, v in LOCATION_NAMES.items()},
        "kinds": kind_names(),
        "key_kinds": {k: message(f"key_kind.{k}") for k in policy.KEY_KINDS},
        "reasons": {"released": _("handed out"), "on_loan": _("out on loan"), "unknown": _("not in the ledger"),
                    "returned": _("returned to the post office"), "disposed": _("disposed of"),
                    "lost_and_found": _("handed to lost and found")},
        "handover_kinds": {"shift": _("Shift handover"), "key_count": _("Monthly key count")},
        "states": {"open": _("open"), "signed": _("signed"), "cancelled": _("cancelled")},
    }


def script_texts() -> dict:
    """The count page script's sentences, with {placeholders} it fills in."""
    return {
        **{k: words()[k] for k in ("findings", "differences", "locations", "reasons", "states", "kinds")},
        "duplicate": _("{ticket} was already counted."),
        "scanned_by": _("{ticket}: {finding} · {place} · by {by}"),
        "unknown_code": _("A code the ledger does not know"),
        "wrong_place": _("found at {found}, the ledger says {ledger}"),
        "explained": _("Explained by {by}: {text}"),
        "escalated": _("escalated to security"),
        "signed_by": _("signed"),
        "not_signed": _("not signed yet"),
        "closed": _("Both clerks have signed: this handover is closed."),
        "trouble": _("The server did not answer. Scan the tag again."),
        "camera_unavailable": _("The camera cannot be used on this screen. Please use the scanner."),
    }


def differences_of(view) -> list:
    """Every line with a difference, once (an expected item handed out and then scanned is in two lists)."""
    seen, lines = set(), []
    for line in view.expected + view.unexpected + view.extra:
        key = (line.item_id, line.code_digest)
        if line.discrepancy and key not in seen:
            seen.add(key)
            lines.append(line)
    return lines


def load(handover_id: int):
    try:
        return full_view(reconciliation.reconcile(db.session(), handover_id))
    except KioskError:
        abort(404)


def count_page(handover_id: int, status: int = 200, *, refusal: dict | None = None, scan: ScanForm | None = None,
               explain: ExplainForm | None = None, unfinished: UnfinishedForm | None = None,
               cancel: CancelForm | None = None, scanned: dict | None = None):
    view = load(handover_id)
    can_count = current_user.role in accounts.PERMISSIONS["handover"] and view.state == "open"
    outgoing = db.session().get(Handover, view.id).outgoing_id == current_user.user_id
    if scan is None:
        scan = ScanForm(formdata=None, location="key_cabinet" if view.kind == "key_count" else "front_desk")
    scanned_lines = {(line.item_id, line.code_digest): line for line in view.expected + view.unexpected + view.extra
                     if line.scanned_at is not None}
    latest = sorted(scanned_lines.values(), key=lambda line: line.scanned_at, reverse=True)[:LATEST]
    differences = differences_of(view)
    # What a scan turned up first (unexpected, wrong place), then what is not found yet.
    differences.sort(key=lambda line: line.discrepancy == "missing")
    return render_template(
        "handover.html", view=view, words=words(), texts=script_texts(), local=local, can_count=can_count,
        can_cancel=current_user.role in accounts.PERMISSIONS["cancel_handover"] and view.state == "open",
        side="outgoing" if outgoing else "incoming", differences=differences, latest=latest, refusal=refusal, scanned=scanned,
        scan=scan, explain=explain or ExplainForm(formdata=None), sign=EmptyForm(formdata=None),
        unfinished=unfinished or UnfinishedForm(formdata=None, text=view.unfinished),
        cancel=cancel or CancelForm(formdata=None), open_key=_open_key(explain)), status


def _open_key(form: ExplainForm | None) -> str | None:
    """The line whose explanation form the page shows open: the one refused (with what was typed and
    why), or the one asked for (``?explain=KEY``, the way in without the page's script)."""
    if form is not None and form.item_id.data:
        return f"i{form.item_id.data}"
    if form is not None and form.code_digest.data:
        return f"c{form.code_digest.data}"
    return request.args.get("explain")


def unsaid(form):
    """A refused form, with any text shaped like an ID number dropped: the page never shows one back."""
    for field in form:
        if isinstance(field.data, str) and looks_like_id_number(field.data):
            field.data = field.raw_data = None
    return form


def change(handover_id: int, work, *, done: str, anchor: str = "", **forms):
    """Run one change to a count in its own transaction; back to the count, or the page with the refusal."""
    session = db.session()
    try:
        with unit_of_work(session):
            result = work(session)
    except KioskError as error:
        return count_page(handover_id, error.status if error.status in (403, 404, 409) else 422,
                          refusal=problem(error), **forms)
    if done:
        flash(done, "info")
    if isinstance(result, str):
        return redirect(result, code=303)
    return redirect(url_for("handover.count", handover_id=handover_id) + anchor, code=303)


def list_page(status: int = 200, *, form: OpenForm | None = None, refusal: dict | None = None):
    """The counts, newest first, and the forms that open the next shift handover or key count."""
    session = db.session()
    rows = reconciliation.list_handovers(session, limit=30)
    kind = form.kind.data if form is not None else None
    return render_template(
        "handovers.html", rows=rows, open_kinds={row.kind: row for row in rows if row.state == "open"},
        previous=local(handover.previous_shift_end(session)), words=words(), local=local, refusal=refusal,
        form=form if kind == "shift" else OpenForm(formdata=None),
        key_form=form if kind == "key_count" else OpenForm(formdata=None, kind="key_count"),
        can_open=current_user.role in accounts.PERMISSIONS["handover"]), status


@bp.get("/handovers")
@allowed("read_handover")
def index():
    return list_page()


@bp.post("/handovers")
@allowed("handover")
def open_count():
    form = OpenForm()
    if form.kind.data not in handover.KINDS:
        form.kind.data = "shift"
    if form.validate_on_submit():
        start = form.shift_start.data
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        session = db.session()
        try:
            with unit_of_work(session):
                row = handover.open_handover(session, current_user.actor(), kind=form.kind.data,
                                             shift_start=start.replace(tzinfo=zone) if start else None,
                                             unfinished=form.unfinished.data or "")
                handover_id = row.id
            return redirect(url_for("handover.count", handover_id=handover_id), code=303)
        except KioskError as error:
            if error.field != "shift_start":
                return list_page(error.status if error.status == 409 else 422, form=unsaid(form),
                                 refusal=problem(error))
            form.shift_start.errors = [message(error.code, **{**error.params, "field": form.shift_start.label.text})]
    return list_page(422, form=unsaid(form))


@bp.get("/handovers/<id:handover_id>")
@allowed("read_handover")
def count(handover_id: int):
    return count_page(handover_id)


@bp.post("/handovers/<id:handover_id>/scans")
@allowed("handover")
def scan(handover_id: int):
    """A scan without the page's script: the same count, answered by showing the page again."""
    form = ScanForm()
    if not form.validate_on_submit():
        return count_page(handover_id, 422, scan=form)
    session = db.session()
    try:
        with unit_of_work(session):
            result = handover.scan(session, desk(), current_user.actor(), handover_id, form.code.data,
                                   location=form.location.data)
            line = result.entry
            scanned = {"duplicate": result.duplicate, "ticket_no": line.item.ticket_no if line.item else None,
                       "finding": line.finding, "discrepancy": line.discrepancy,
                       "found_location": line.line.found_location, "ledger_location": line.line.ledger_location}
    except KioskError as error:
        return count_page(handover_id, error.status if error.status in (403, 404, 409) else 422,
                          refusal=problem(error), scan=form)
    return count_page(handover_id, scan=ScanForm(formdata=None, location=form.location.data), scanned=scanned)


@bp.post("/handovers/<id:handover_id>/explanations")
@allowed("handover")
def explain(handover_id: int):
    form = ExplainForm()
    if not form.validate_on_submit():
        return count_page(handover_id, 422, explain=unsaid(form))
    item_id = form.item_id.data
    if item_id and not (item_id.isdigit() and 0 < int(item_id) < 2**63):
        abort(404)  # no such line: ids are what the API's router accepts

    def work(session):
        handover.explain(session, current_user.actor(), handover_id, text=form.text.data,
                         item_id=int(item_id) if item_id else None, code_digest=form.code_digest.data or None,
                         escalate=bool(form.escalate.data))

    done = _("Escalated to security.") if form.escalate.data else _("The explanation is recorded.")
    return change(handover_id, work, done=done, anchor="#differences", explain=form)


@bp.post("/handovers/<id:handover_id>/unfinished")
@allowed("handover")
def note(handover_id: int):
    form = UnfinishedForm()
    if not form.validate_on_submit():
        return count_page(handover_id, 422, unfinished=unsaid(form))

    def work(session):
        handover.note_unfinished(session, current_user.actor(), handover_id, form.text.data or "")

    return change(handover_id, work, done=_("The unfinished work is updated."), unfinished=form)


@bp.post("/handovers/<id:handover_id>/sign")
@allowed("handover")
def sign(handover_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)

    def work(session):
        row = handover.sign(session, current_user.actor(), handover_id)
        if row.state == "signed":
            return url_for("handover.sheet", handover_id=row.id)
        return None

    return change(handover_id, work, done=_("Signed."))


@bp.post("/handovers/<id:handover_id>/cancel")
@allowed("cancel_handover")
def cancel(handover_id: int):
    form = CancelForm()
    if not form.validate_on_submit():
        return count_page(handover_id, 422, cancel=unsaid(form))

    def work(session):
        handover.cancel(session, current_user.actor(), handover_id, form.reason.data)
        return url_for("handover.index")

    return change(handover_id, work, done=_("The count is cancelled."), cancel=form)


@bp.get("/handovers/<id:handover_id>/sheet")
@allowed("read_handover")
def sheet(handover_id: int):
    """The printable sheet (《客服部工作交接表》, or the key count's): what both signed, and the chain head."""
    view = load(handover_id)
    differences = differences_of(view)
    return render_template("handover_sheet.html", view=view, words=words(), local=local, counts=COUNTS,
                           differences=differences, printed_at=local(datetime.now().astimezone()))
