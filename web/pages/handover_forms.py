"""The handover pages' forms: open a count, scan a tag, explain a difference, pass on work, sign, cancel.

Each refuses what the API refuses (web/schema.py field types, through ``forms.rule``) and says so
in the page's language.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from kiosk import handover, policy

from ..schema import Choice, Text
from .forms import LOCATION_NAMES, REQUIRED, rule


class OpenForm(FlaskForm):
    """The outgoing clerk opens a shift handover (交接班) or the monthly key count (每月盘点)."""

    kind = HiddenField(default="shift")
    shift_start = DateTimeLocalField(_l("The shift started at (local time)"), format="%Y-%m-%dT%H:%M",
                                     validators=[Optional()])
    unfinished = TextAreaField(_l("Work not finished, passed on (optional)"),
                               validators=[Optional(), rule(Text(handover.UNFINISHED_LIMIT, multiline=True,
                                                                 required=False))])


class ScanForm(FlaskForm):
    """One tag, as a keyboard-wedge scanner types it (or a person does), and the shelf it is on."""

    code = StringField(_l("Scan an item tag"), validators=[DataRequired(REQUIRED), Length(max=1024)],
                       render_kw={"autocomplete": "off", "autofocus": True, "spellcheck": "false"})
    location = SelectField(_l("Counting at"), choices=[SelectChoice(p, LOCATION_NAMES[p]) for p in policy.LOCATIONS],
                           validate_choice=False, validators=[rule(Choice(policy.LOCATIONS, "invalid_location"))])


class ExplainForm(FlaskForm):
    """Why one line of the count differs, by item or by the digest of an unknown code; or escalate it."""

    item_id = HiddenField()
    code_digest = HiddenField()
    text = TextAreaField(_l("Explanation"),
                         validators=[rule(Text(handover.EXPLANATION_LIMIT, multiline=True))])
    escalate = BooleanField(_l("Escalate to security (raises an alert)"))


class UnfinishedForm(FlaskForm):
    text = TextAreaField(_l("Work not finished, passed on (《客服部工作交接表》)"),
                         validators=[Optional(), rule(Text(handover.UNFINISHED_LIMIT, multiline=True,
                                                           required=False))])


class CancelForm(FlaskForm):
    reason = StringField(_l("Why cancel this count?"), validators=[rule(Text(handover.EXPLANATION_LIMIT))],
                         render_kw={"autocomplete": "off"})
