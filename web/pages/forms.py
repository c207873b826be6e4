"""The pages' forms. Each carries a CSRF token (Flask-WTF) and says what is wrong in the page's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from wtforms import HiddenField, PasswordField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, StopValidation

from kiosk import complaints, policy

from ..messages import message
from ..schema import Choice, Name, Phone, Text, validation_error

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
class LoginForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), Length(max=64)],
                       render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class EmptyForm(FlaskForm):
    """A button that only needs the CSRF token (sign out, enrol this screen)."""


def rule(kind):
    """A WTForms validator from one of the API's field types (web/schema.py): the pages refuse
    what the API refuses (ID numbers, control characters, over-long text, bad phones), and say
    so with the catalogue's sentence in the page's language."""
    adapter = TypeAdapter(kind)

    def check(form, field) -> None:
        try:
            field.data = adapter.validate_python(field.data if field.data is not None else "")
        except PydanticValidationError as error:
            problem = validation_error(error)
            raise StopValidation(message(problem.code, **{**problem.params, "field": field.label.text})) from None

    return check


class ComplaintForm(FlaskForm):
    kind = RadioField(_l("What is it?"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in complaints.KINDS],
                      default="complaint", validate_choice=False, validators=[rule(Choice(complaints.KINDS))])
    category = SelectField(_l("About"),
                           choices=[SelectChoice(c, CATEGORY_NAMES[c]) for c in complaints.CATEGORIES],
                           validate_choice=False, validators=[rule(Choice(complaints.CATEGORIES))])
    unit = StringField(_l("Unit (building-room)"), validators=[rule(Text(policy.TEXT_LIMITS["unit"]))],
                       render_kw={"autocomplete": "off"})
    name = StringField(_l("Your name"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=[rule(Phone)], render_kw={"autocomplete": "off", "inputmode": "tel"})
    text = TextAreaField(_l("Tell us what happened or what you need"),
                         validators=[rule(Text(complaints.TEXT_LIMIT, multiline=True))])
