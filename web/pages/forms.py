"""The pages' forms. Each carries a CSRF token (Flask-WTF) and says what is wrong in the page's language."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from kiosk import complaints

REQUIRED = _l("Please fill this in.")

KIND_NAMES = {
    "complaint": _l("Complaint"),
    "repair": _l("Repair request"),
    "help": _l("Asking for help"),
}
CATEGORY_NAMES = {
    "housing": _l("Housing management"),
    "equipment": _l("Equipment and facilities"),
    "security": _l("Safety and security"),
    "environment": _l("Cleaning and green areas"),
    "service": _l("General service"),
    "dispute": _l("Dispute between residents"),
    "developer": _l("Developer-related"),
    "property_title": _l("Property title service"),
    "other": _l("Other"),
}
# A name field is for a name: a run of digits this long is an ID or card number, which the desk never takes.
LONG_DIGITS = re.compile(r"\d{11,}")


class LoginForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=64)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token (sign out, enrol this screen)."""


def _no_id_number(form, field) -> None:
    if LONG_DIGITS.search(field.data or ""):
        raise ValidationError(_l("Please write only a name here, no ID or card numbers."))


class ComplaintForm(FlaskForm):
    kind = RadioField(_l("What is it?"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in complaints.KINDS],
                      default="complaint", validators=[DataRequired(REQUIRED)])
    category = SelectField(_l("About"), choices=[SelectChoice(c, CATEGORY_NAMES[c]) for c in complaints.CATEGORIES],
                           validators=[DataRequired(REQUIRED)])
    unit = StringField(_l("Unit (building-room)"), validators=[DataRequired(REQUIRED), Length(max=32)],
                       render_kw={"autocomplete": "off"})
    name = StringField(_l("Your name"), validators=[DataRequired(REQUIRED), Length(max=64), _no_id_number],
                       render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=[
        DataRequired(REQUIRED), Length(max=24),
        Regexp(r"^\+?[\d\s-]{5,23}$", message=_l("Please give a phone number we can call back."))],
        render_kw={"autocomplete": "off", "inputmode": "tel"})
    text = TextAreaField(_l("Tell us what happened or what you need"),
                         validators=[DataRequired(REQUIRED), Length(max=2000)])
