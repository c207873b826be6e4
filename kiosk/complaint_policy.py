"""The complaints desk's vocabulary and intake rules (DOMAIN.md, "Complaints and requests"),
as data and small checks. The operations are in kiosk/complaints.py.
"""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta

from . import accounts
from .errors import InvalidInput
from .values import Actor, ComplaintForm

KINDS = ("complaint", "repair", "help", "suggestion")
# In person, phone, letter, e-mail, online forum, media; forwarded by the company, another
# department or a colleague; or filed by the resident at the lobby kiosk.
CHANNELS = ("visit", "phone", "letter", "email", "online_forum", "media", "company", "department", "colleague",
            "kiosk")
# 房屋管理类, 设备管理类, 安全管理类, 环境管理类, 综合服务类, 业户纠纷类, 地产相关类, 房产服务类, 其他类
CATEGORIES = ("housing", "equipment", "security", "environment", "general_service", "resident_dispute",
              "developer", "property_title", "other")
# The weekly analysis's split.
AREAS = ("energy", "equipment", "service")
# To vent (be heard), respect, a fix, compensation.
WANTS = ("heard", "respect", "fix", "compensation")
WRITTEN_CHANNELS = frozenset({"letter", "email"})
# Where a complaint may come without anyone saying who they are.
ANONYMOUS_CHANNELS = frozenset({"media", "online_forum"})

STATES = ("received", "acknowledged", "in_progress", "resolved", "followed_up", "closed")
OPEN_STATES = STATES[:-1]
TRANSITIONS = {
    "received": frozenset({"acknowledged"}),
    "acknowledged": frozenset({"in_progress", "resolved"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"followed_up"}),
    "followed_up": frozenset({"closed"}),
    "closed": frozenset(),
}
REPEAT_WINDOW = timedelta(days=30)
# A kiosk device files at most this many complaints in this window (anyone can reach it).
KIOSK_FILINGS = 10
KIOSK_WINDOW = timedelta(minutes=10)
# The longest text each field holds (the columns in models.py agree; a test checks).
TEXT_LIMITS = {"unit": 32, "name": 64, "contact": 100, "content": 2000, "repair_location": 100, "note": 2000}
# Repairs: in a public area (checked by the desk after completion) or inside the unit
# (confirmed by the resident at the follow-up visit).
REPAIR_SCOPES = ("public", "in_unit")


def text(field: str, value: str | None, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise InvalidInput(code="missing_field", field=field)
        return None
    if len(value) > TEXT_LIMITS[field]:
        raise InvalidInput(code="too_long", field=field, limit=TEXT_LIMITS[field])
    return value


def choice(field: str, value: str | None, choices: tuple[str, ...], code: str | None = None) -> None:
    if value not in choices:
        raise InvalidInput(code=code or f"invalid_{field}", field=field, choices=choices)


def normalise_unit(unit: str | None) -> str | None:
    """``ｂ3 - 0502`` and ``B3-0502`` are the same unit: repeat detection compares these."""
    if unit is None:
        return None
    unit = "".join(unicodedata.normalize("NFKC", unit).split()).upper()
    return unit or None


def check_form(form: ComplaintForm, actor: Actor, now: datetime) -> ComplaintForm:
    """The desk's rules for a complaint form; returns it with every default filled in."""
    choice("kind", form.kind, KINDS, "invalid_complaint_kind")
    choice("category", form.category, CATEGORIES)
    choice("channel", form.channel, CHANNELS)
    if (actor.role == accounts.KIOSK) != (form.channel == "kiosk"):
        # A kiosk cannot say it is a phone call, and staff are not the kiosk.
        raise InvalidInput(code="invalid_channel", field="channel", choices=CHANNELS)
    if actor.role == accounts.KIOSK:
        for field in ("our_cause", "reasonable", "reply_due_at", "written"):
            if getattr(form, field) is not None:
                raise InvalidInput(code="field_not_allowed", field=field)
    if form.area is not None:
        choice("area", form.area, AREAS)
    unknown = [want for want in form.wants if want not in WANTS]
    if unknown:
        raise InvalidInput(code="invalid_wants", field="wants", choices=WANTS, value=unknown[0])
    anonymous = form.channel in ANONYMOUS_CHANNELS
    if form.reply_due_at is not None:
        if form.reply_due_at.tzinfo is None:
            raise InvalidInput(code="invalid_time", field="reply_due_at")
        if form.reply_due_at <= now:
            raise InvalidInput(code="time_in_past", field="reply_due_at")
    scope = form.repair_scope
    if form.kind == "repair":
        if scope is None:
            raise InvalidInput(code="missing_field", field="repair_scope")
        choice("repair_scope", scope, REPAIR_SCOPES)
    elif scope is not None or form.repair_location is not None:
        raise InvalidInput(code="field_not_allowed", field="repair_scope")
    return replace(
        form,
        unit=normalise_unit(text("unit", form.unit, required=not anonymous)),
        name=text("name", form.name, required=not anonymous),
        contact=text("contact", form.contact, required=not anonymous),
        content=text("content", form.content, required=True),
        repair_location=text("repair_location", form.repair_location, required=False),
        area=form.area or ("equipment" if form.category == "equipment" else "service"),
        wants=tuple(dict.fromkeys(form.wants)),
        written=form.channel in WRITTEN_CHANNELS if form.written is None else form.written,
    )
