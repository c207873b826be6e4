from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printing import PrinterProfile, render, render_stream
from printing.escpos_output import needs_raster, wrap
from printing.escpos_reader import UnknownCommand, parse, qr_payloads

from .conftest import PICKUP, STUB, TAG, base_label
from .escpos_helpers import all_payloads, part_text, raster_payloads, split_parts

NATIVE_80 = PrinterProfile("80", 576, native_qr=True, cjk_font=True)
NATIVE_58 = PrinterProfile("58", 384, native_qr=True, cjk_font=True)
RASTER_80 = PrinterProfile("80r", 576, native_qr=False, cjk_font=False)
RASTER_58 = PrinterProfile("58r", 384, native_qr=False, cjk_font=False)
ALL = [NATIVE_80, NATIVE_58, RASTER_80, RASTER_58]


@pytest.mark.parametrize("profile", [NATIVE_80, NATIVE_58], ids=lambda p: p.name)
def test_native_qr_commands_carry_exactly_the_two_codes(label, profile):
    stream = render(label, profile)
    parts = split_parts(stream)
    assert [qr_payloads(ops) for ops in parts] == [[TAG], [STUB]]
    ops = parse(stream)
    assert [op.args for op in ops if op.name == "qr_ec"] == [("M",), ("M",)]
    assert not any(op.name == "raster" for op in ops)


@pytest.mark.parametrize("profile", [RASTER_80, RASTER_58], ids=lambda p: p.name)
def test_raster_qr_decodes_to_exactly_the_two_codes(label, profile):
    stream = render(label, profile)
    assert b"\x1d(k" not in stream
    assert [raster_payloads(ops) for ops in split_parts(stream)] == [[TAG], [STUB]]


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.name)
def test_ticket_number_is_large_text_on_both_parts(label, profile):
    for ops in split_parts(render(label, profile)):
        index = next(i for i, op in enumerate(ops) if op.name == "text" and op.data == b"A-0042")
        size = [op.args for op in ops[:index] if op.name == "size"][-1]
        assert size == (3, 3)


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.name)
def test_parts_are_separated_by_a_partial_cut_and_end_with_a_full_cut(label, profile):
    cuts = [op.args[0] for op in parse(render(label, profile)) if op.name == "cut"]
    assert cuts == ["partial", "full"]


def test_chinese_goes_as_gb18030_on_printers_with_a_chinese_font(label):
    stream = render(label, NATIVE_80)
    ops = parse(stream)
    assert ops[0].name == "init" and ops[1].name == "kanji_on"
    assert "张*" in part_text(ops) and "行李认领单" in part_text(ops)
    assert "张".encode("gb18030") in stream


def test_chinese_goes_as_raster_on_printers_without_one(label):
    profile = PrinterProfile("80t", 576, native_qr=True, cjk_font=False)
    ops = parse(render(label, profile))
    assert not any(op.name == "kanji_on" for op in ops)
    text = part_text(ops, kanji=False)  # would raise if any byte >= 0x80 were sent as text
    assert "A-0042" in text and "张" not in text
    assert any(op.name == "raster" for op in ops)
    assert qr_payloads(ops) == [TAG, STUB]


def test_characters_missing_from_printer_fonts_are_rastered_even_with_a_chinese_font():
    assert not needs_raster("张三 Zhang", NATIVE_80)
    assert needs_raster("𠀀", NATIVE_80)  # CJK extension B: four-byte GB18030, not in GBK
    assert needs_raster("张三", RASTER_80)
    assert not needs_raster("plain ASCII", RASTER_80)


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.name)
def test_nothing_is_wider_than_the_paper(profile):
    label = base_label(
        description="很长的说明" * 20 + " " + "averyveryverylongwordwithoutspaces" * 3,
        location="地下储物间 Basement storeroom, shelf 12, bin 7, left of the door",
    )
    stream = render(label, profile)
    for op in parse(stream):
        if op.name == "raster":
            assert op.args[0] * 8 <= profile.width_dots
        if op.name == "qr_module":
            assert op.args[0] == profile.qr_module_dots
    assert render_stream(stream, profile.width_dots).overflows == 0


def test_58mm_wraps_where_80mm_does_not(label):
    long = replace(label, location="Storeroom B shelf 12")
    lines_80 = part_text(split_parts(render(long, NATIVE_80))[0]).splitlines()
    lines_58 = part_text(split_parts(render(long, NATIVE_58))[0]).splitlines()
    assert any("Storeroom B shelf 12" in line for line in lines_80)
    assert not any("Storeroom B shelf 12" in line for line in lines_58)
    assert max(map(len, [line.encode("gb18030") for line in lines_58])) <= 32
    assert max(map(len, [line.encode("gb18030") for line in lines_80])) <= 48


def test_wrap_prefers_spaces_and_never_loses_characters():
    pieces = wrap("alpha beta gamma delta", 12 * 11, lambda ch: 12)
    assert pieces == ["alpha beta", "gamma delta"]
    assert "".join(wrap("x" * 100, 120, lambda ch: 12)) == "x" * 100


HOSTILE = (
    "\x1b@\x1dV\x00\x1d(k\x03\x001Q0\x1c.\x10\x04\x04\x1bp\x00\x19\xfa"
    "<b>bold?</b> {{ ticket.claim_code }} ${x} %s \x9b31m \u202ereversed\u202c"
)


@pytest.mark.parametrize("profile", ALL, ids=lambda p: p.name)
def test_hostile_description_cannot_inject_commands(label, profile):
    hostile = replace(label, description=HOSTILE, unit="12-0301\x1bd\x09", staff="\x1dV\x41\x00x")
    stream = render(hostile, profile)
    ops = parse(stream)  # strict: raises on any command we did not write
    names = [op.name for op in ops]
    assert names.count("cut") == 2 and names.count("init") == 1
    assert all_payloads(ops) == [TAG, STUB]
    assert names.count("qr_store") == (2 if profile.native_qr else 0)
    if profile.cjk_font:
        text = " ".join(part_text(ops).splitlines())  # undo wrapping
        for literal in ("<b>bold?</b>", "{{ ticket.claim_code }}", "${x} %s"):
            assert literal in text
    # Same label without the hostile text has the same command skeleton.
    clean = [op.name for op in parse(render(label, profile)) if op.name not in ("text", "lf", "raster")]
    assert [n for n in names if n not in ("text", "lf", "raster")] == clean


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    description=st.text(max_size=200),
    unit=st.text(max_size=30),
    name=st.text(alphabet=st.characters(blacklist_categories=["Nd"]), max_size=8),
)
def test_no_text_field_can_add_or_break_a_command(description, unit, name):
    label = base_label(description=description, unit=unit, owner_name_masked=name, kind="mail", claim_code=PICKUP)
    ops = parse(render(label, NATIVE_58))
    assert [op.name for op in ops].count("cut") == 2
    assert qr_payloads(ops) == [TAG, PICKUP]


def test_the_reader_rejects_commands_we_never_emit():
    with pytest.raises(UnknownCommand):
        parse(b"\x1b@\x1bp\x00\x19\xfa")  # cash drawer kick
    with pytest.raises(UnknownCommand):
        parse(b"\x1b@\xb2\xb9")  # GB18030 bytes outside Chinese mode


@pytest.mark.parametrize("profile", [NATIVE_80, NATIVE_58], ids=lambda p: p.name)
def test_native_two_part_label_fits_in_4_kib(profile):
    label = base_label(reprint=True, site_name="Riverside Tower 滨江大厦", designated_collector_masked="王*")
    assert len(render(label, profile)) < 4096


@pytest.mark.parametrize("profile", [PrinterProfile("r", 576, False, True), PrinterProfile("r", 384, False, True)])
def test_raster_qr_fallback_fits_in_40_kib(profile):
    assert len(render(base_label(reprint=True), profile)) < 40 * 1024
