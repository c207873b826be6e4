"""What the supervisor's and security's pages share: who may open them, the clock, the words
for the desk's codes, and their forms.

The pages read the app's clock (``web.security.now``: the real one, or the one a test
put in ``CLOCK``), so the overdue rules can be shown at any moment a test chooses.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import abort, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from kiosk import accounts, contacts, mail, overdue, policy, unclaimed

from ..auth import site_zone
from ..messages import word
from ..schema import Choice, Name, Text
from ..security import now as clock
from .forms import optional, rule

__all__ = ["clock", "only", "local", "held_for", "words", "ContactForm", "NotifyForm", "DisposalForm",
           "DecisionForm", "ReturnToPostForm", "UndeliverableForm", "ResolveForm"]


def only(permission: str):
    """Signed-in users whose role has ``permission`` (kiosk.accounts.PERMISSIONS); anyone else 403."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not accounts.may(current_user.role, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def local(moment: datetime | None) -> str:
    """A time as the desk reads it: the site's zone, to the minute."""
    if moment is None:
        return ""
    return moment.astimezone(site_zone()).strftime("%Y-%m-%d %H:%M")


def held_for(since: datetime, now: datetime) -> str:
    """How long, in days and hours (the list's "age")."""
    span = max(now - since, timedelta(0))
    days, hours = span.days, span.seconds // 3600
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=(span.seconds % 3600) // 60)


def next_contact_reasons() -> dict[str, str]:
    """Why a contact is due (kiosk.contacts.next_contact's ``reason``)."""
    return {
        "first_notice": _("first notice to the owner"),
        "pickup_time_passed": _("the pickup time has passed"),
        "long_stay": _("kept longer than the desk keeps it"),
        "promised_pickup_passed": _("the owner promised to come by now"),
        "follow_up": _("follow up: the owner knows, the item is still here"),
        "find_another_way": _("wrong number: visit or leave a notice slip"),
        "express_retry": _("express item: call again"),
        "retry": _("try again: nobody answered"),
    }


def alert_kinds() -> dict[str, str]:
    return {
        "revoked_stub_presented": _("A revoked stub was presented"),
        "lost_stub_after_release": _("A stub reported lost after the item was collected"),
        "key_loan_overdue": _("A key is not back on time"),
        "key_out_at_end_of_day": _("A key is still out at the end of the day"),
        "complaint_reply_overdue": _("A promised complaint reply is late"),
        "item_missing": _("An item is missing from the shelf"),
        "count_discrepancy": _("The count does not add up"),
        "wrong_code_burst": _("Many wrong codes in a short time"),
    }


def trail_events() -> dict[str, str]:
    """What the audit trail calls each event, in the page's language (others show as recorded)."""
    return {
        "deposit": _("taken in"), "scan": _("code scanned"), "release": _("handed out"),
        "release_refused": _("hand-out refused"), "move": _("moved"), "reprint": _("label reprinted"),
        "print": _("label printed"), "lost": _("stub reported lost"), "reissue": _("new stub issued"),
        "alert": _("security alert"), "alert_resolved": _("alert resolved"), "contact": _("owner contacted"),
        "notify_requested": _("reminder queued for the owner"), "disposal_requested": _("disposal requested"),
        "disposal_declined": _("disposal declined"), "disposal_refused": _("approval refused: same person"),
        "disposed": _("disposed of"), "lost_and_found": _("handed to lost-and-found"),
        "undeliverable": _("marked undeliverable"), "returned_to_post": _("returned to the post office"),
        "lend": _("key lent"), "key_return": _("key returned"),
    }


def notification_states() -> dict[str, str]:
    return {"queued": _("waiting to be sent"), "claimed": _("being sent"), "sending": _("being sent"),
            "sent": _("sent"), "failed": _("failed"), "in_doubt": _("may not have arrived"),
            "cancelled": _("cancelled")}


def words(group: str, code: str | None) -> str:
    """The catalogue's word for one of the desk's codes (``words("policy", "long_stay")``)."""
    return "" if code is None else word(group, code)


def policy_class(status: str | None) -> str:
    """The badge a policy status wears: overdue, due (work to do, not late) or fine."""
    if status in overdue.OVERDUE:
        return "overdue"
    return "fine" if status in (None, "ok") else "due"


def texts_for_pages() -> dict:
    """Everything the supervisor's templates need besides their own data."""
    return {"words": words, "local": local, "policy_class": policy_class, "reasons": next_contact_reasons(),
            "trail_names": trail_events(), "alert_names": alert_kinds(), "sent_states": notification_states(),
            "timezone": current_app.config["TIMEZONE"]}


# ---------------------------------------------------------------- forms

def _coded(group: str, codes: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(code, word(group, code)) for code in codes]


class ContactForm(FlaskForm):
    """One attempt to reach the owner (POST /items/{id}/contacts)."""

    method = SelectField(_l("How"), validate_choice=False,
                         validators=[rule(Choice(contacts.METHODS, "invalid_method"))])
    outcome = SelectField(_l("Result"), validate_choice=False,
                          validators=[rule(Choice(contacts.OUTCOMES, "invalid_outcome"))])
    promised_at = DateTimeLocalField(_l("Promised pickup time (only when the owner promised one)"),
                                     format="%Y-%m-%dT%H:%M", validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"),
                         validators=optional(Text(policy.TEXT_LIMITS["note"], multiline=True, required=False)))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The words follow the page's language, so the choices are made per request.
        self.method.choices = _coded("method", contacts.METHODS)
        self.outcome.choices = _coded("outcome", contacts.OUTCOMES)


class NotifyForm(FlaskForm):
    channel = SelectField(_l("Send"), validate_choice=False,
                          validators=[rule(Choice(unclaimed.CHANNELS, "invalid_notify_channel"))])

    def __init__(self, *args, mail_item: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        names = {"sms": _("a text message"), "email": _("an email"),
                 "notice_slip": _("a notice slip for the mailbox")}
        offered = unclaimed.CHANNELS if mail_item else ("sms", "email")
        self.channel.choices = [SelectChoice(c, names[c]) for c in offered]


class DisposalForm(FlaskForm):
    action = SelectField(_l("What should happen to it"), validate_choice=False,
                         validators=[rule(Choice(unclaimed.ACTIONS, "invalid_action"))])
    reason = TextAreaField(_l("Why"), validators=[rule(Text(unclaimed.REASON_LIMIT, multiline=True))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = [SelectChoice("lost_and_found", _("Hand to lost-and-found")),
                               SelectChoice("dispose", _("Dispose of it"))]


class DecisionForm(FlaskForm):
    note = StringField(_l("Note (optional)"),
                       validators=optional(Text(policy.TEXT_LIMITS["note"], required=False)),
                       render_kw={"autocomplete": "off"})


class UndeliverableForm(FlaskForm):
    reason = SelectField(_l("Why it cannot be delivered"), validate_choice=False,
                         validators=[rule(Choice(mail.UNDELIVERABLE_REASONS))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = {"not_a_resident": _("not a resident"), "moved_out": _("moved out"),
                 "refused_by_addressee": _("refused by the addressee"), "unclaimed": _("never collected"),
                 "address_unclear": _("address unclear")}
        self.reason.choices = [SelectChoice(r, names.get(r, r)) for r in mail.UNDELIVERABLE_REASONS]


class ReturnToPostForm(FlaskForm):
    post_worker = StringField(_l("Post worker who takes it (signs the register)"), validators=[rule(Name())],
                              render_kw={"autocomplete": "off"})


class ResolveForm(FlaskForm):
    note = StringField(_l("What was done"),
                       validators=optional(Text(policy.TEXT_LIMITS["note"], required=False)),
                       render_kw={"autocomplete": "off"})
