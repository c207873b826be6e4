"""The label value: everything printed on one two-part label, and nothing else.

The caller (the ledger) has already decided what may be shown: names and
phones arrive masked. This module only checks that the value is printable
and safe; it never looks anything up.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from printing.errors import LabelInvalid

Kind = Literal["luggage", "key", "parcel", "mail", "short_term"]
KINDS: tuple[str, ...] = get_args(Kind)

# The QR alphanumeric mode charset: codes in it encode at 5.5 bits a char, so
# a 40-char code fits version 3 at ECC level M and scanners read it reliably.
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
CODE_MAX_LEN = 40

_TICKET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,19}")
# Seven digits in a row means a phone (or ID) number was not masked; the desk
# prints no more personal data than the task needs (DOMAIN.md, Personal information).
_UNMASKED_DIGITS_RE = re.compile(r"\d{7,}")

DESCRIPTION_MAX = 160
FIELD_MAX = 60


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Return ``value`` with everything a printer could read as a command removed.

    Drops C0 controls (ESC, GS, FS, DLE...), DEL and C1 controls, Unicode
    format characters (bidi overrides, zero-width joiners: they can make a
    printed label read differently from the stored one), surrogates and
    private-use code points. Tabs become spaces; newlines survive only when
    ``multiline`` is true. Idempotent, so every layer may call it again.
    """
    out: list[str] = []
    for ch in value.replace("\r\n", "\n").replace("\r", "\n"):
        if ch == "\n":
            out.append("\n" if multiline else " ")
        elif ch == "\t":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    return "\n".join(line for line in lines if line) if multiline else lines[0]


def check_code(code: str, field: str) -> str:
    """Raise LabelInvalid unless ``code`` fits a small QR in alphanumeric mode."""
    if not isinstance(code, str) or not code:
        raise LabelInvalid(f"{field} must be a non-empty string")
    if len(code) > CODE_MAX_LEN:
        raise LabelInvalid(f"{field} is longer than {CODE_MAX_LEN} characters")
    bad = sorted(set(code) - QR_ALPHANUMERIC)
    if bad:
        raise LabelInvalid(f"{field} has characters outside the QR alphanumeric set: {bad!r}")
    return code


@dataclass(frozen=True, slots=True)
class LabelData:
    """One ticket's label, as plain values.

    ``tag_code`` goes on the part that stays with the item; ``claim_code`` on
    the part the owner keeps (the claim stub, or for parcels and mail the
    pickup notice). ``description`` is free text typed by staff and is treated
    as untrusted data.
    """

    ticket_no: str
    kind: Kind
    unit: str
    owner_name_masked: str
    owner_phone_masked: str
    deposited_at: datetime
    staff: str
    location: str
    tag_code: str
    claim_code: str
    expected_pickup_at: datetime | None = None
    designated_collector_masked: str | None = None
    description: str = ""
    reprint: bool = False
    site_name: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LabelInvalid(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not isinstance(self.ticket_no, str) or not _TICKET_RE.fullmatch(self.ticket_no):
            raise LabelInvalid("ticket_no must be 1-20 letters, digits or '-'")
        check_code(self.tag_code, "tag_code")
        check_code(self.claim_code, "claim_code")
        if self.tag_code == self.claim_code:
            # Whoever handles the item would hold the owner's proof of collection.
            raise LabelInvalid("tag_code and claim_code must differ")
        for name in ("deposited_at", "expected_pickup_at"):
            when = getattr(self, name)
            if when is None and name == "expected_pickup_at":
                continue
            if not isinstance(when, datetime) or when.utcoffset() is None:
                raise LabelInvalid(f"{name} must be a timezone-aware datetime")
        texts = {
            "unit": self.unit,
            "owner_name_masked": self.owner_name_masked,
            "owner_phone_masked": self.owner_phone_masked,
            "staff": self.staff,
            "location": self.location,
            "designated_collector_masked": self.designated_collector_masked or "",
            "site_name": self.site_name or "",
            "description": self.description,
        }
        for name, text in texts.items():
            if not isinstance(text, str):
                raise LabelInvalid(f"{name} must be a string")
        for name in ("owner_phone_masked", "owner_name_masked", "designated_collector_masked"):
            if _UNMASKED_DIGITS_RE.search(texts[name]):
                raise LabelInvalid(f"{name} looks unmasked; mask it before printing")
        if not isinstance(self.reprint, bool):
            raise LabelInvalid("reprint must be a bool")

    @property
    def has_stub(self) -> bool:
        """Luggage, short-term items and keys get a claim stub; parcels and mail a notice."""
        return self.kind in ("luggage", "short_term", "key")


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut so nobody reads it as whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
