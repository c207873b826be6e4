"""The pages' forms. Each carries a CSRF token (Flask-WTF) and says what is wrong in the page's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from kiosk import complaint_policy, policy

from ..messages import message
from ..schema import Choice, Name, Pattern, Phone, Text, validation_error

REQUIRED = _l("Please fill this in.")

KIND_NAMES = {
    "complaint": _l("Complaint"),
    "repair": _l("Repair request"),
    "help": _l("Asking for help"),
}
# What a resident files at the kiosk (suggestions are taken at the desk).
KIOSK_KINDS = ("complaint", "repair", "help")
CATEGORY_NAMES = {
    "housing": _l("Housing management"),
    "equipment": _l("Equipment and facilities"),
    "security": _l("Safety and security"),
    "environment": _l("Cleaning and green areas"),
    "general_service": _l("General service"),
    "resident_dispute": _l("Dispute between residents"),
    "developer": _l("Developer-related"),
    "property_title": _l("Property title service"),
    "other": _l("Other"),
}
# What the desk's deposit form takes in; keys, mail and parcels have their own registers.
DESK_KINDS = ("luggage", "short_term")
DESK_LOCATIONS = ("front_desk", "management_office", "storeroom")
DESK_KIND_NAMES = {"luggage": _l("Luggage"), "short_term": _l("Short-term item")}
SIZE_NAMES = {"small": _l("Small"), "large": _l("Large")}
LOCATION_NAMES = {
    "front_desk": _l("Front desk"),
    "management_office": _l("Management office"),
    "storeroom": _l("Basement storeroom"),
    "key_cabinet": _l("Key cabinet"),
    "mail_shelf": _l("Mail shelf"),
}
DECLARED_NAMES = {
    "flammable": _l("Flammable"),
    "explosive": _l("Explosive"),
    "toxic": _l("Toxic"),
    "prohibited": _l("Prohibited goods"),
    "cash": _l("Cash"),
    "valuables": _l("Jewellery or valuables"),
    "food": _l("Food"),
    "strong_smell": _l("Strong-smelling"),
    "fragile": _l("Fragile"),
    "perishable": _l("Perishable"),
}
ID_TYPE_NAMES = {
    "resident_id": _l("Resident ID card"),
    "passport": _l("Passport"),
    "hk_macau_permit": _l("Hong Kong/Macau permit"),
    "taiwan_permit": _l("Taiwan permit"),
    "driving_licence": _l("Driving licence"),
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
    kind = RadioField(_l("What is it?"), choices=[SelectChoice(k, KIND_NAMES[k]) for k in KIOSK_KINDS],
                      default="complaint", validate_choice=False, validators=[rule(Choice(KIOSK_KINDS))])
    category = SelectField(_l("About"),
                           choices=[SelectChoice(c, CATEGORY_NAMES[c]) for c in complaint_policy.CATEGORIES],
                           validate_choice=False, validators=[rule(Choice(complaint_policy.CATEGORIES))])
    unit = StringField(_l("Unit (building-room)"), validators=[rule(Text(policy.TEXT_LIMITS["unit"]))],
                       render_kw={"autocomplete": "off"})
    name = StringField(_l("Your name"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=[rule(Phone)], render_kw={"autocomplete": "off", "inputmode": "tel"})
    text = TextAreaField(_l("Tell us what happened or what you need"),
                         validators=[rule(Text(complaint_policy.TEXT_LIMITS["content"], multiline=True))])


class CheckboxesField(SelectMultipleField):
    """Several boxes to tick, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def optional(kind):
    """``rule(kind)`` for a field that may stay blank."""
    return [Optional(), rule(kind)]


class DepositForm(FlaskForm):
    """The desk's deposit form (DOMAIN.md, "Taking an item in"): what the API's POST /items takes."""

    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, DESK_KIND_NAMES[k]) for k in DESK_KINDS],
                       validate_choice=False, validators=[rule(Choice(DESK_KINDS, "invalid_kind"))])
    owner_unit = StringField(_l("Unit (building-room)"), validators=[rule(Text(policy.TEXT_LIMITS["unit"]))],
                             render_kw={"autocomplete": "off"})
    owner_name = StringField(_l("Owner's name"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    owner_phone = StringField(_l("Owner's phone"), validators=[rule(Phone)],
                              render_kw={"autocomplete": "off", "inputmode": "tel"})
    # A suggested owner picked from the unit's known owners (kiosk.owners): their phone is taken
    # from where it is kept, never typed or shown.
    owner_ref = HiddenField(validators=[Optional(), Length(max=20)])
    description = TextAreaField(_l("Description"),
                                validators=optional(Text(policy.TEXT_LIMITS["description"], multiline=True,
                                                         required=False)))
    size = RadioField(_l("Size"), choices=[SelectChoice(s, SIZE_NAMES[s]) for s in policy.SIZES], default="small",
                      validate_choice=False, validators=[rule(Choice(policy.SIZES, "invalid_size"))])
    expected_pickup = DateTimeLocalField(_l("Expected pickup (local time)"), format="%Y-%m-%dT%H:%M",
                                         validators=[Optional()])
    collector_name = StringField(_l("Designated collector (if not the owner)"), validators=optional(Name()),
                                 render_kw={"autocomplete": "off"})
    collector_phone = StringField(_l("Collector's phone"), validators=optional(Phone),
                                  render_kw={"autocomplete": "off", "inputmode": "tel"})
    location = SelectField(_l("Storage place"),
                           choices=[SelectChoice("", _l("As suggested"))]
                           + [SelectChoice(p, LOCATION_NAMES[p]) for p in DESK_LOCATIONS],
                           validate_choice=False, validators=optional(Choice(DESK_LOCATIONS, "invalid_location")))
    declared = CheckboxesField(_l("The customer declares"),
                               choices=[SelectChoice(d, DECLARED_NAMES[d]) for d in policy.DECLARABLE],
                               validate_choice=False)
    disclaimer_acknowledged = BooleanField(
        _l("The customer was told the desk takes no responsibility for food, strong-smelling, fragile or "
           "perishable goods"))

    def validate_declared(self, field) -> None:
        unknown = [d for d in field.data or [] if d not in policy.DECLARABLE]
        if unknown:
            raise StopValidation(message("invalid_declaration", field=field.label.text))


class ReleaseForm(FlaskForm):
    """Hand an item out: the stub scanned, then the item's tag; identity when someone else collects."""

    stub_code = StringField(_l("Scan the customer's stub (or type the ticket number if it is lost)"), validators=[DataRequired(REQUIRED), Length(max=1024)],
                            render_kw={"autocomplete": "off", "autofocus": True})
    tag_code = StringField(_l("Scan the item's tag"), validators=[DataRequired(REQUIRED), Length(max=1024)],
                           render_kw={"autocomplete": "off"})
    collector_name = StringField(_l("Collector's name (if not the depositor)"), validators=optional(Name()),
                                 render_kw={"autocomplete": "off"})
    id_type = SelectField(_l("ID type"), choices=[SelectChoice("", "—")]
                          + [SelectChoice(t, ID_TYPE_NAMES[t]) for t in policy.ID_TYPES],
                          validate_choice=False, validators=optional(Choice(policy.ID_TYPES, "invalid_id_type")))
    id_last4 = StringField(_l("Last 4 characters of the ID"),
                           validators=optional(Pattern("[0-9A-Za-z]{4}", "invalid_id_last4", 4, too_long=False)),
                           render_kw={"autocomplete": "off", "maxlength": 4})


class MoveForm(FlaskForm):
    location = SelectField(_l("Move to"), choices=[SelectChoice(p, LOCATION_NAMES[p]) for p in policy.LOCATIONS],
                           validate_choice=False, validators=[rule(Choice(policy.LOCATIONS, "invalid_location"))])
    location_detail = StringField(_l("Shelf or place (optional)"),
                                  validators=optional(Text(policy.TEXT_LIMITS["location_detail"], required=False)))


class ReprintForm(FlaskForm):
    reason = StringField(_l("Why print it again?"), validators=[rule(Text(policy.TEXT_LIMITS["reason"]))],
                         render_kw={"autocomplete": "off"})


class LostStubForm(FlaskForm):
    """The owner reports the stub lost: unit and name must match the register."""

    unit = StringField(_l("Unit (building-room)"), validators=[rule(Text(policy.TEXT_LIMITS["unit"]))],
                       render_kw={"autocomplete": "off"})
    name = StringField(_l("Name of the owner or designated collector"), validators=[rule(Name())],
                       render_kw={"autocomplete": "off"})
    reissue = BooleanField(_l("Print a new stub now (the old one stops working)"))


CONSENT_CHANNEL_NAMES = {
    "signature": _l("Signed the register"),
    "in_person": _l("In person"),
    "phone": _l("By phone"),
    "written": _l("In writing"),
}
KEY_KIND_NAMES = {
    "unit_key": _l("Unit key"),
    "shop_key": _l("Shop key"),
    "resident_card": _l("Resident card"),
    "car_card": _l("Car card"),
}
MAIL_KIND_NAMES = {"parcel": _l("Parcel"), "mail": _l("Letter")}
MAIL_CLASS_NAMES = {
    "ordinary": _l("Ordinary"),
    "express": _l("Express item (快件)"),
    "registered": _l("Registered letter (挂号信)"),
    "parcel_slip": _l("Parcel slip (包裹单)"),
    "remittance_slip": _l("Remittance slip (汇款单)"),
}
# Offered while typing the carrier; any other name may be typed. Postal ones first.
CARRIERS = ("EMS", "中国邮政", "顺丰速运", "京东物流", "中通快递", "圆通速递", "DHL", "UPS", "FedEx")


def _consent_channel(label):
    return SelectField(label, choices=[SelectChoice(c, CONSENT_CHANNEL_NAMES[c]) for c in policy.CONSENT_CHANNELS],
                       default="signature", validate_choice=False,
                       validators=[rule(Choice(policy.CONSENT_CHANNELS, "invalid_consent_channel"))])


class KeyDepositPage(FlaskForm):
    """A key left at the desk (《顾客委托钥匙登记表》): the owner's consent, into the key cabinet."""

    owner_unit = StringField(_l("Unit (building-room)"), validators=[rule(Text(policy.TEXT_LIMITS["unit"]))],
                             render_kw={"autocomplete": "off"})
    owner_name = StringField(_l("Owner's name"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    owner_phone = StringField(_l("Owner's phone"), validators=[rule(Phone)],
                              render_kw={"autocomplete": "off", "inputmode": "tel"})
    key_kind = SelectField(_l("Key"), choices=[SelectChoice(k, KEY_KIND_NAMES[k]) for k in policy.KEY_KINDS],
                           validate_choice=False, validators=[rule(Choice(policy.KEY_KINDS, "invalid_key_kind"))])
    description = StringField(_l("Description"), validators=optional(Text(policy.TEXT_LIMITS["description"],
                                                                          required=False)),
                              render_kw={"autocomplete": "off"})
    cabinet_slot = StringField(_l("Cabinet hook or slot"), validators=optional(Text(policy.TEXT_LIMITS["slot"])),
                               render_kw={"autocomplete": "off"})
    collector_name = StringField(_l("Who will collect it (if not the owner)"), validators=optional(Name()),
                                 render_kw={"autocomplete": "off"})
    handed_over = BooleanField(_l("The unit is handed over to its owner (this is the owner's spare key)"))
    consent_by = StringField(_l("Consent given by"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    consent_channel = _consent_channel(_l("How"))


class LendPage(FlaskForm):
    """Lend a held key for the day: the borrower leaves name, phone, company; back today."""

    key = StringField(_l("Key: ticket number or scan its tag"), validators=[DataRequired(REQUIRED), Length(max=1024)],
                      render_kw={"autocomplete": "off"})
    borrower_name = StringField(_l("Borrower's name"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    borrower_phone = StringField(_l("Borrower's phone"), validators=[rule(Phone)],
                                 render_kw={"autocomplete": "off", "inputmode": "tel"})
    borrower_company = StringField(_l("Company"), validators=optional(Text(policy.TEXT_LIMITS["company"],
                                                                          required=False)),
                                   render_kw={"autocomplete": "off"})
    purpose = StringField(_l("Purpose"), validators=[rule(Text(policy.TEXT_LIMITS["purpose"]))],
                          render_kw={"autocomplete": "off"})
    due_back = TimeField(_l("Due back today at"), validators=[DataRequired(REQUIRED)])
    consent_by = StringField(_l("Owner's consent given by (the owner's spare key)"), validators=optional(Name()),
                             render_kw={"autocomplete": "off"})
    consent_channel = _consent_channel(_l("How"))
    approval_reason = StringField(_l("Supervisor's approval: reason (over 12 hours or overnight)"),
                                  validators=optional(Text(policy.TEXT_LIMITS["reason"])),
                                  render_kw={"autocomplete": "off"})


class MailPage(FlaskForm):
    """A letter or parcel received (《邮件签收登记表》): for whom, from which carrier, how urgent."""

    kind = SelectField(_l("What"), choices=[SelectChoice(k, MAIL_KIND_NAMES[k]) for k in ("parcel", "mail")],
                       validate_choice=False, validators=[rule(Choice(("parcel", "mail"), "invalid_kind"))])
    unit = StringField(_l("Recipient's unit"), validators=[rule(Text(policy.TEXT_LIMITS["unit"]))],
                       render_kw={"autocomplete": "off"})
    name = StringField(_l("Recipient's name"), validators=[rule(Name())], render_kw={"autocomplete": "off"})
    carrier = StringField(_l("Carrier"), validators=[rule(Text(policy.TEXT_LIMITS["carrier"]))],
                          render_kw={"autocomplete": "off", "list": "carriers"})
    mail_class = SelectField(_l("Class"), choices=[SelectChoice(c, MAIL_CLASS_NAMES[c]) for c in MAIL_CLASS_NAMES],
                             validate_choice=False,
                             validators=[rule(Choice(tuple(MAIL_CLASS_NAMES), "invalid_mail_class"))])
    description = StringField(_l("Description"), validators=optional(Text(policy.TEXT_LIMITS["description"],
                                                                          required=False)),
                              render_kw={"autocomplete": "off"})
    perishable = BooleanField(_l("Perishable (food, flowers…)"))
    shelf_slot = StringField(_l("Shelf slot"), validators=optional(Text(policy.TEXT_LIMITS["slot"])),
                             render_kw={"autocomplete": "off"})
    consent_by = StringField(_l("Owner's consent for a private courier, given by"), validators=optional(Name()),
                             render_kw={"autocomplete": "off"})
    consent_channel = _consent_channel(_l("How"))
    return_to_post = BooleanField(_l("Not for a resident: register it for return to the post office"))


class MailPickupForm(FlaskForm):
    """A letter or parcel handed out: its tag, then the pickup code or the collector's ID; the collector signs."""

    tag_code = StringField(_l("Scan the item's tag"), validators=[DataRequired(REQUIRED), Length(max=1024)],
                           render_kw={"autocomplete": "off"})
    pickup_code = StringField(_l("Scan the pickup code (from the notice or the message)"),
                              validators=[Optional(), Length(max=1024)], render_kw={"autocomplete": "off"})
    collector_name = StringField(_l("Without the code: collector's name (the addressee or the same unit)"),
                                 validators=optional(Name()), render_kw={"autocomplete": "off"})
    id_type = SelectField(_l("ID type"), choices=[SelectChoice("", "—")]
                          + [SelectChoice(t, ID_TYPE_NAMES[t]) for t in policy.ID_TYPES],
                          validate_choice=False, validators=optional(Choice(policy.ID_TYPES, "invalid_id_type")))
    id_last4 = StringField(_l("Last 4 characters of the ID"),
                           validators=optional(Pattern("[0-9A-Za-z]{4}", "invalid_id_last4", 4, too_long=False)),
                           render_kw={"autocomplete": "off", "maxlength": 4})
    signature = StringField(_l("Collector signs: their name"), validators=[rule(Name())],
                            render_kw={"autocomplete": "off"})


UNDELIVERABLE_NAMES = {
    "not_a_resident": _l("Not a resident"),
    "moved_out": _l("Moved out"),
    "refused_by_addressee": _l("Refused by the addressee"),
    "unclaimed": _l("Not collected"),
    "address_unclear": _l("Address unclear"),
}


class UndeliverableForm(FlaskForm):
    # Not "reason": the reprint form on the same page has that id.
    undeliverable_reason = SelectField(_l("Why it cannot be delivered"),
                         choices=[SelectChoice(r, UNDELIVERABLE_NAMES[r]) for r in UNDELIVERABLE_NAMES],
                         validate_choice=False, validators=[rule(Choice(tuple(UNDELIVERABLE_NAMES)))])


class ReturnToPostForm(FlaskForm):
    post_worker = StringField(_l("Post worker who takes it back"), validators=[rule(Name())],
                              render_kw={"autocomplete": "off"})
