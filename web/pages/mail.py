"""Mail and parcels at the desk (issue 13): take one in for a resident, see the owner notified.

The checks are the domain's (kiosk.mail): someone not living here is refused
(``not_a_resident``) unless a postal letter is registered for return; a private
courier's parcel needs the owner's consent. The notice goes into the outbox in the
same transaction as the intake; the notify worker sends it. The page lists the mail
held, the letters to take back to the post office, and each item's notices on its
own page.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from kiosk import mail, printjobs
from kiosk.db import unit_of_work
from kiosk.errors import KioskError
from kiosk.models import Item
from kiosk.privacy import mask_name
from kiosk.values import Consent, MailForm

from .. import db
from ..auth import desk
from ..errors import ApiError
from ..labels import printer
from ..security import now as clock_now
from . import blueprint
from .desk import desk_staff, place_error, problem
from .forms import CARRIERS, MAIL_CLASS_NAMES, MAIL_KIND_NAMES, MailPage

bp = blueprint("mail")

FIELDS = {"unit": "unit", "name": "name", "carrier": "carrier", "consent": "consent_by",
          "consent.given_by": "consent_by", "return_to_post": "return_to_post"}


def mail_page(status: int = 200, *, form: MailPage | None = None, refusal: dict | None = None):
    session = db.session()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    held = list(session.scalars(select(Item).where(Item.kind.in_(("parcel", "mail")), Item.status == "held",
                                                   Item.undeliverable_at.is_(None))
                                .order_by(Item.id.desc()).limit(100)))
    returns = mail.for_return(session, now=clock_now(), limit=100)
    return render_template("desk_mail.html", form=form or MailPage(formdata=None), refusal=refusal,
                           carriers=CARRIERS, held=held, returns=returns, zone=zone, mask_name=mask_name,
                           kinds=MAIL_KIND_NAMES, classes=MAIL_CLASS_NAMES), status


@bp.get("/desk/mail")
@desk_staff
def mail_desk():
    return mail_page()


@bp.post("/desk/mail")
@desk_staff
def intake():
    form = MailPage()
    if not form.validate_on_submit():
        return mail_page(422, form=form)
    session = db.session()
    try:
        with unit_of_work(session):
            actor, target = current_user.actor(), printer(None)
            result = mail.intake(session, desk(), actor, MailForm(
                kind=form.kind.data, unit=form.unit.data, name=form.name.data, carrier=form.carrier.data,
                mail_class=form.mail_class.data, description=form.description.data or "",
                perishable=bool(form.perishable.data),
                consent=Consent(form.consent_by.data, form.consent_channel.data) if form.consent_by.data else None,
                return_to_post=bool(form.return_to_post.data), shelf_slot=form.shelf_slot.data or None),
                now=clock_now())
            # The parcel's tag and the pickup notice for the mailbox (《邮件接收通知单》); a letter
            # going back to the post office gets its tag only.
            job = printjobs.enqueue(session, actor, result.item, target.name, target.url,
                                    part="tag" if result.resident is None else None)
            item_id, job_id = result.item.id, job.id
    except KioskError as error:
        name = FIELDS.get(error.field or "")
        refusal = place_error(form, error) if name is None else None
        if name is not None:
            field = getattr(form, name)
            field.errors = [_field_message(error, field)]
        return mail_page(422, form=form, refusal=refusal)
    except ApiError as error:
        return mail_page(422, form=form, refusal=problem(error))
    return redirect(url_for("desk.taken_in", item_id=item_id, job=job_id), code=303)


def _field_message(error: KioskError, field) -> str:
    from ..messages import message

    return message(error.code, **{**error.params, "field": field.label.text})
