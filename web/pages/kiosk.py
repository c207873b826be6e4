"""The lobby kiosk: its screen, its enrolment, and the complaint or request form residents fill in."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, jsonify, redirect, render_template, url_for
from flask_wtf.csrf import generate_csrf

from kiosk import complaints, enrolment, values
from kiosk.errors import KioskError, TooManyFilings

from .. import db, i18n
from ..limits import rate_limit
from ..messages import message
from ..security import device_actor, now, set_device_cookie
from . import blueprint, committed
from .forms import ComplaintForm, EmptyForm
from .wording import kiosk_texts

bp = blueprint("kiosk")


def _not_enrolled():
    return render_template("kiosk_not_enrolled.html"), 403


@bp.get("/kiosk")
def screen():
    actor = device_actor()
    if actor is None:
        return _not_enrolled()
    config = current_app.config
    return render_template("kiosk.html", device=actor.device, texts=kiosk_texts(),
                           result_seconds=config["KIOSK_RESULT_SECONDS"], frame_ms=config["KIOSK_FRAME_MS"])


@bp.get("/kiosk/token")
def token():
    """A fresh CSRF token for a kiosk page that has been open longer than its session."""
    if device_actor() is None:
        return jsonify({"error": {"code": "unauthorized", "message": "this browser is not an enrolled kiosk"}}), 401
    return jsonify({"csrf_token": generate_csrf()}), 200, {"Cache-Control": "no-store"}


@bp.get("/kiosk/enrol/<secret>")
@rate_limit("enrol")
def enrol_form(secret: str):
    found = enrolment.pending(db.session(), secret)
    if found is None:
        return render_template("kiosk_enrol.html", device=None), 410
    return render_template("kiosk_enrol.html", device=found.device, form=EmptyForm())


@bp.post("/kiosk/enrol/<secret>")
@rate_limit("enrol")
@committed
def enrol(secret: str):
    spent = enrolment.redeem(db.session(), secret)
    if spent is None:
        return render_template("kiosk_enrol.html", device=None), 410
    _device, token_value = spent
    response = redirect(url_for("kiosk.screen"), code=303)
    set_device_cookie(response, token_value)
    return response


@bp.route("/kiosk/request", methods=["GET", "POST"])
@rate_limit("complaint", methods=("POST",))
@committed
def complaint():
    actor = device_actor()
    if actor is None:
        return _not_enrolled()
    form = ComplaintForm()
    refusal = None
    if form.validate_on_submit():
        try:
            filed = complaints.take(db.session(), actor, values.ComplaintForm(
                kind=form.kind.data, category=form.category.data, channel="kiosk", unit=form.unit.data,
                name=form.name.data, contact=form.phone.data, content=form.text.data, language=i18n.current(),
                # The kiosk does not ask where: a repair is taken as a public one (checked by the desk
                # after completion) until the desk knows better.
                repair_scope="public" if form.kind.data == "repair" else None),
                tz=ZoneInfo(current_app.config["TIMEZONE"]), now=now())
        except TooManyFilings as error:
            # Anyone in the lobby can reach the kiosk, so it files only so many; the resident is
            # told plainly where to go instead (nothing was taken, nothing is kept).
            return render_template("kiosk_request_limit.html", minutes=error.params.get("minutes"),
                                   return_seconds=current_app.config["KIOSK_RESULT_SECONDS"] * 3), 429
        except KioskError as error:
            refusal = message(error.code, **error.params)
        else:
            return redirect(url_for("kiosk.complaint_filed", number=filed.id), code=303)
    status = 422 if form.errors or refusal else 200
    return render_template("kiosk_request.html", form=form, refusal=refusal), status


@bp.get("/kiosk/request/<int:number>")
def complaint_filed(number: int):
    if device_actor() is None:
        return _not_enrolled()
    return render_template("kiosk_request_filed.html", number=number,
                           return_seconds=current_app.config["KIOSK_RESULT_SECONDS"])
