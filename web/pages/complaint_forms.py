"""The complaints desk's forms: taking a complaint at the desk, moving it on, replying, judging,
reassigning, a work order's progress, and the working-day calendar.

Choices are named with the API's catalogue (web/messages.py: ``kind.repair`` → 报修), so the
page, the CSV and the API's errors use the same words; they are filled in per request, in the
page's language. Text fields refuse what the API refuses (``rule``).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, StopValidation

from kiosk import complaint_policy as policy
from kiosk import work_orders, workdays

from ..messages import word
from ..schema import Choice, Name, Text
from .forms import REQUIRED, CheckboxesField, optional, rule

LIMITS = policy.TEXT_LIMITS
# What the desk takes in person; the kiosk files as "kiosk" by itself.
DESK_CHANNELS = tuple(channel for channel in policy.CHANNELS if channel != "kiosk")
# A judgement not made yet, yes, no (the API's null, true, false).
TRI_STATE = ("", "yes", "no")


def tri_state(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def tri_value(flag: bool | None) -> str:
    return "" if flag is None else "yes" if flag else "no"


def _named(group: str, codes, blank: str | None = None) -> list[SelectChoice]:
    choices = [SelectChoice(code, word(group, code)) for code in codes]
    return ([SelectChoice("", blank)] if blank is not None else []) + choices


def _tri_choices(unknown) -> list[SelectChoice]:
    return [SelectChoice("", str(unknown)), SelectChoice("yes", str(_l("Yes"))), SelectChoice("no", str(_l("No")))]


class TakeForm(FlaskForm):
    """A complaint or request taken at the desk (POST /api/v1/complaints, as staff)."""

    kind = SelectField(_l("What is it?"), validate_choice=False,
                       validators=[rule(Choice(policy.KINDS, "invalid_complaint_kind"))])
    channel = SelectField(_l("How did it come in?"), validate_choice=False,
                          validators=[rule(Choice(DESK_CHANNELS, "invalid_channel"))])
    category = SelectField(_l("Category"), validate_choice=False,
                           validators=[rule(Choice(policy.CATEGORIES, "invalid_category"))])
    area = SelectField(_l("Weekly split"), validate_choice=False,
                       validators=optional(Choice(policy.AREAS, "invalid_area")))
    unit = StringField(_l("Unit (building-room)"), validators=optional(Text(LIMITS["unit"], required=False)),
                       render_kw={"autocomplete": "off"})
    name = StringField(_l("Resident's name"), validators=optional(Name(LIMITS["name"])),
                       render_kw={"autocomplete": "off"})
    contact = StringField(_l("Contact (phone or e-mail)"),
                          validators=optional(Text(LIMITS["contact"], required=False)),
                          render_kw={"autocomplete": "off"})
    content = TextAreaField(_l("What happened, what is asked, and why"),
                            validators=[rule(Text(LIMITS["content"], multiline=True))])
    wants = CheckboxesField(_l("What the resident wants"), validate_choice=False)
    our_cause = SelectField(_l("Is the cause ours?"), validate_choice=False)
    reasonable = SelectField(_l("Is the request reasonable?"), validate_choice=False)
    written = SelectField(_l("Needs a written reply"), validate_choice=False)
    reply_due = DateTimeLocalField(_l("Reply promised by (local time; empty: within one working day)"),
                                   format="%Y-%m-%dT%H:%M", validators=[Optional()])
    repair_scope = SelectField(_l("Where is the repair?"), validate_choice=False,
                               validators=optional(Choice(policy.REPAIR_SCOPES, "invalid_repair_scope")))
    repair_location = StringField(_l("Place of the repair (if not the unit)"),
                                  validators=optional(Text(LIMITS["repair_location"], required=False)),
                                  render_kw={"autocomplete": "off"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = _named("kind", policy.KINDS)
        self.channel.choices = _named("channel", DESK_CHANNELS)
        self.category.choices = _named("category", policy.CATEGORIES)
        self.area.choices = _named("area", policy.AREAS, str(_l("By category")))
        self.wants.choices = _named("want", policy.WANTS)
        self.our_cause.choices = _tri_choices(_l("Not judged yet"))
        self.reasonable.choices = _tri_choices(_l("Not judged yet"))
        self.written.choices = [SelectChoice("", str(_l("As the channel says (letters and e-mails)"))),
                                SelectChoice("yes", str(_l("Yes"))), SelectChoice("no", str(_l("No")))]
        self.repair_scope.choices = _named("repair_scope", policy.REPAIR_SCOPES, "—")

    def validate_wants(self, field) -> None:
        if any(want not in policy.WANTS for want in field.data or []):
            raise StopValidation(str(_l("Please choose from the list.")))


class TransitionForm(FlaskForm):
    """One step of the walk: received → acknowledged → in progress → resolved → followed up → closed."""

    to = HiddenField(validators=[rule(Choice(policy.STATES, "invalid_state"))])
    note = TextAreaField(_l("Note (optional)"), validators=optional(Text(LIMITS["note"], multiline=True,
                                                                        required=False)))
    satisfied = RadioField(_l("Was the resident satisfied?"), choices=[SelectChoice("yes", _l("Yes, satisfied")),
                                                                       SelectChoice("no", _l("No: reopen it"))],
                           validate_choice=False, validators=[Optional()])
    reply = TextAreaField(_l("Reply given with this step (optional)"),
                          validators=optional(Text(LIMITS["note"], multiline=True, required=False)))
    written = BooleanField(_l("The reply was in writing (letter or e-mail)"))


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("What the desk told the resident"),
                         validators=[rule(Text(LIMITS["note"], multiline=True))])
    written = BooleanField(_l("In writing (letter or e-mail)"))


class AssessmentForm(FlaskForm):
    our_cause = SelectField(_l("Is the cause ours?"), validate_choice=False)
    reasonable = SelectField(_l("Is the request reasonable?"), validate_choice=False)
    wants = CheckboxesField(_l("What the resident wants"), validate_choice=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.our_cause.choices = _tri_choices(_l("Not judged yet"))
        self.reasonable.choices = _tri_choices(_l("Not judged yet"))
        self.wants.choices = _named("want", policy.WANTS)

    def validate_wants(self, field) -> None:
        if any(want not in policy.WANTS for want in field.data or []):
            raise StopValidation(str(_l("Please choose from the list.")))


class ReassignForm(FlaskForm):
    owner = SelectField(_l("Hand it to"), validate_choice=False, validators=[DataRequired(REQUIRED)])
    reason = TextAreaField(_l("Why"), validators=[rule(Text(LIMITS["note"], multiline=True))])


class WorkOrderForm(FlaskForm):
    to = HiddenField(validators=[rule(Choice(work_orders.STATES, "invalid_state"))])
    assignee = StringField(_l("Engineer (optional)"),
                           validators=optional(Text(work_orders.ASSIGNEE_LIMIT, required=False)),
                           render_kw={"autocomplete": "off"})
    note = StringField(_l("Note (optional)"), validators=optional(Text(LIMITS["note"], required=False)),
                       render_kw={"autocomplete": "off"})


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired(REQUIRED)])
    working = RadioField(_l("That day"), choices=[SelectChoice("no", _l("Holiday: not worked")),
                                                  SelectChoice("yes", _l("Worked (make-up day, 调休)"))],
                         default="no", validators=[DataRequired(REQUIRED)])
    name = StringField(_l("Name (e.g. National Day)"),
                       validators=optional(Text(workdays.NAME_LIMIT, required=False)),
                       render_kw={"autocomplete": "off"})


class CalendarWeekdayForm(FlaskForm):
    weekday = HiddenField(validators=[DataRequired(REQUIRED)])
    working = HiddenField(validators=[DataRequired(REQUIRED)])
