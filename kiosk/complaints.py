"""Complaints and requests as residents file them (DOMAIN "Complaints and requests").

Only the intake for now: what the resident said, who took it in, and where.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from .models import Complaint
from .values import Actor

# 投诉 (complaint), 报修 (repair), 求助 (asking for help).
KINDS = ("complaint", "repair", "help")
# The desk's categories, in the order of its own procedures.
CATEGORIES = (
    "housing",          # 房屋管理类
    "equipment",        # 设备管理类
    "security",         # 安全管理类
    "environment",      # 环境管理类 (cleaning, green)
    "service",          # 综合服务类
    "dispute",          # 业户纠纷类
    "developer",        # 地产相关类
    "property_title",   # 房产服务类
    "other",            # 其他类
)
CHANNELS = ("kiosk", "in_person", "phone", "letter", "email", "online")
TEXT_LIMIT = 2000


@dataclass(frozen=True)
class ComplaintForm:
    kind: str
    category: str
    unit: str
    name: str
    phone: str
    text: str
    language: str
    channel: str = "kiosk"


def file_complaint(session: Session, actor: Actor, form: ComplaintForm, now: datetime | None = None) -> Complaint:
    """Take a complaint or request in. Its values were checked by the form that collected them."""
    if form.kind not in KINDS or form.category not in CATEGORIES or form.channel not in CHANNELS:
        raise ValueError("kind, category and channel come from the form's fixed choices")
    complaint = Complaint(kind=form.kind, category=form.category, unit=form.unit.strip(), name=form.name.strip(),
                          phone=form.phone.strip(), text=form.text.strip(), language=form.language,
                          channel=form.channel, received_by=actor.name, device=actor.device, status="open",
                          created_at=now or datetime.now(UTC))
    session.add(complaint)
    session.flush()
    return complaint
