"""What goes on each part of a label, independent of any printer.

A layout is a tuple of parts (item tag, claim stub, key envelope, pickup
notice); each part is a tuple of blocks. The ESC/POS writer turns blocks into
bytes for one printer profile; nothing here knows about bytes or paper width.
All label text passes through ``clean_text`` on its way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Union

from printing import wording
from printing.labels import DESCRIPTION_MAX, FIELD_MAX, LabelData, clean_text, shorten

Align = Literal["left", "center", "right"]
Role = Literal["tag", "stub", "envelope", "notice"]


@dataclass(frozen=True, slots=True)
class Text:
    """A run of text, wrapped to the paper by the writer. ``scale`` multiplies both axes."""

    text: str
    scale: int = 1
    bold: bool = False
    align: Align = "left"


@dataclass(frozen=True, slots=True)
class Code:
    """A QR code carrying ``payload`` exactly."""

    payload: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A dashed line across the paper."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Blank lines."""

    lines: int = 1


Block = Union[Text, Code, Rule, Gap]


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of paper after the cut."""

    role: Role
    blocks: tuple[Block, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(b.payload for b in self.blocks if isinstance(b, Code))


@dataclass(frozen=True, slots=True)
class Layout:
    parts: tuple[Part, ...]


def _when(value: datetime) -> str:
    # Printed in the timezone the caller gave; the desk reads local time.
    return value.strftime("%Y-%m-%d %H:%M")


def _field(key: str, value: str) -> Text:
    zh, en = wording.FIELDS[key]
    return Text(f"{zh} {en}: {shorten(clean_text(value), FIELD_MAX)}")


def _bilingual(pair: tuple[str, str], **style) -> tuple[Text, Text]:
    return Text(pair[0], **style), Text(pair[1], **style)


def _header(label: LabelData, role: Role) -> list[Block]:
    blocks: list[Block] = []
    if label.reprint:
        zh, en = wording.REPRINT
        blocks.append(Text(f"** {zh} {en} **", scale=2, bold=True, align="center"))
    if label.site_name:
        blocks.append(Text(shorten(clean_text(label.site_name), FIELD_MAX), bold=True, align="center"))
    blocks.extend(_bilingual(wording.TITLES[(label.kind, role)], bold=True, align="center"))
    # The number is what staff match between the two parts at handover, so it
    # is the biggest thing on every part.
    blocks.append(Text(label.ticket_no, scale=3, bold=True, align="center"))
    blocks.append(Rule())
    return blocks


def _kind_line(label: LabelData) -> Text:
    zh, en = wording.KIND_NAMES[label.kind]
    return _field("kind", f"{zh} {en}")


def _owner_lines(label: LabelData) -> list[Block]:
    return [
        _field("unit", label.unit),
        _field("name", label.owner_name_masked),
        _field("phone", label.owner_phone_masked),
    ]


def _optional_lines(label: LabelData) -> list[Block]:
    blocks: list[Block] = []
    if label.expected_pickup_at is not None:
        blocks.append(_field("expected_pickup_at", _when(label.expected_pickup_at)))
    if label.designated_collector_masked:
        blocks.append(_field("collector", label.designated_collector_masked))
    return blocks


def _description(label: LabelData) -> list[Block]:
    text = shorten(clean_text(label.description, multiline=True), DESCRIPTION_MAX)
    if not text:
        return []
    zh, en = wording.FIELDS["description"]
    return [Text(f"{zh} {en}:"), Text(text)]


def _code(payload: str) -> list[Block]:
    # The code is printed under the QR as text too: staff can type it when a
    # crumpled stub no longer scans.
    return [Gap(), Code(payload), Gap(), Text(payload, align="center")]


def _redacted() -> list[Block]:
    # Where the claim code would be on a screen preview: no QR, no text, same place.
    zh, en = wording.REDACTED
    return [Gap(), Rule(), Text(f"[ {zh} ]", bold=True, align="center"), Text(f"[ {en} ]", align="center"),
            Rule(), Gap()]


def _terms(pairs: tuple[tuple[str, str], ...]) -> list[Block]:
    blocks: list[Block] = [Rule()]
    for number, (zh, en) in enumerate(pairs, start=1):
        blocks.append(Text(f"{number}. {zh}"))
        blocks.append(Text(f"   {en}"))
    return blocks


def _item_tag(label: LabelData) -> Part:
    blocks = _header(label, "tag")
    received = "received_at" if label.kind in ("parcel", "mail") else "deposited_at"
    blocks += [_kind_line(label), *_owner_lines(label), _field(received, _when(label.deposited_at))]
    blocks += [_field("staff", label.staff), _field("location", label.location)]
    blocks += _optional_lines(label) + _description(label) + _code(label.tag_code)
    return Part("tag", tuple(blocks))


def _claim_stub(label: LabelData, redact: bool) -> Part:
    blocks = _header(label, "stub")
    blocks += [_kind_line(label), *_owner_lines(label), _field("deposited_at", _when(label.deposited_at))]
    blocks += [_field("staff", label.staff), _field("location", label.location)]
    blocks += _optional_lines(label) + (_redacted() if redact else _code(label.claim_code))
    blocks += _terms(wording.KEY_STUB_TERMS if label.kind == "key" else wording.STUB_TERMS)
    return Part("stub", tuple(blocks))


def _key_envelope(label: LabelData) -> Part:
    blocks = _header(label, "envelope")
    blocks += [
        _field("unit", label.unit),
        _field("date", label.deposited_at.strftime("%Y-%m-%d")),
        _field("collector", label.designated_collector_masked or label.owner_name_masked),
        _field("name", label.owner_name_masked),
        _field("phone", label.owner_phone_masked),
        _field("staff", label.staff),
        _field("location", label.location),
    ]
    if label.expected_pickup_at is not None:
        blocks.append(_field("expected_pickup_at", _when(label.expected_pickup_at)))
    blocks += _description(label) + _code(label.tag_code)
    blocks += [Rule(), *_bilingual(wording.ENVELOPE_NOTE)]
    return Part("envelope", tuple(blocks))


def _pickup_notice(label: LabelData, redact: bool) -> Part:
    blocks = _header(label, "notice")
    blocks += [
        _field("unit", label.unit),
        _field("addressee", label.owner_name_masked),
        _kind_line(label),
        _field("received_at", _when(label.deposited_at)),
        _field("location", "前台 Front desk"),
    ]
    for pair in wording.NOTICE_LINES:
        blocks += _bilingual(pair)
    blocks += _redacted() if redact else _code(label.claim_code)
    return Part("notice", tuple(blocks))


def layout_label(label: LabelData, *, redact_claim: bool = False) -> Layout:
    """Lay out every part of ``label``'s print job, in print order.

    The first part always carries ``tag_code`` and the last ``claim_code``; with
    ``redact_claim`` (screen previews) the last part shows where the code would be
    instead of the code, so no screen ever shows a working claim code.
    """
    if label.kind == "key":
        return Layout((_key_envelope(label), _claim_stub(label, redact_claim)))
    if label.kind in ("parcel", "mail"):
        return Layout((_item_tag(label), _pickup_notice(label, redact_claim)))
    return Layout((_item_tag(label), _claim_stub(label, redact_claim)))
