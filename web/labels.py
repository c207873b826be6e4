"""From a ledger item to a printable label, and which printer a desk prints on."""
from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import current_app

from kiosk import ledger
from kiosk.models import Item
from kiosk.privacy import mask_name, mask_phone
from kiosk.values import Desk
from printing import LabelData

from .errors import ApiError
from .messages import has_message, message


def location_name(location: str) -> str:
    """Where an item is kept, as printed on the tag: the desk's Chinese word, then English."""
    key = f"location.{location}"
    if not has_message(key):
        return location
    return f"{message(key, 'zh_Hans')} {message(key, 'en')}"


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def parse_printers(default_url: str, named: str) -> dict[str, str]:
    """``KIOSK_PRINTERS`` is ``name=url`` pairs separated by spaces or semicolons."""
    printers = {"default": default_url}
    for pair in re.split(r"[;\s]+", named.strip()):
        if not pair:
            continue
        name, sep, url = pair.partition("=")
        if not sep or not _NAME.fullmatch(name) or not url:
            raise ValueError(f"KIOSK_PRINTERS entry {pair!r} is not name=url")
        printers[name] = url
    return printers


@dataclass(frozen=True)
class Printer:
    name: str
    url: str


def printer(name: str | None) -> Printer:
    printers = current_app.config["PRINTERS"]
    name = name or "default"
    if not isinstance(name, str) or name not in printers:
        raise ApiError(422, "unknown_printer", field="printer", name=name, choices=sorted(printers))
    return Printer(name, printers[name])


def label_for(item: Item, desk: Desk, *, reprint: bool, timezone: str) -> LabelData:
    """The label as it must print now: a reissued stub carries its new code."""
    zone = ZoneInfo(timezone)
    designated = mask_name(item.designated_name) if item.designated_name else None
    return LabelData(
        ticket_no=item.ticket_no, kind=item.kind, unit=item.owner_unit,
        owner_name_masked=mask_name(item.owner_name), owner_phone_masked=mask_phone(item.owner_phone),
        deposited_at=item.deposited_at.astimezone(zone), staff=item.staff_name,
        location=location_name(item.location) + (
            f" {item.location_detail}" if item.location_detail else ""),
        tag_code=ledger.tag_code(desk, item), claim_code=ledger.claim_code(desk, item),
        expected_pickup_at=item.expected_pickup_at.astimezone(zone) if item.expected_pickup_at else None,
        designated_collector_masked=designated, description=item.description, reprint=reprint,
        site_name=desk.site_name or None,
    )
