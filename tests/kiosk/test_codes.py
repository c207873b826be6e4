import qrcode
import pytest
from hypothesis import given, settings, strategies as st
from qrcode.constants import ERROR_CORRECT_M

from kiosk import codes
from kiosk.errors import CodeTooLong, MalformedCode

KEY = b"k" * 32


def test_tag_stub_and_pickup_codes_differ_and_round_trip():
    tag, stub, pickup = (codes.make(KEY, role, 4242) for role in (codes.TAG, codes.STUB, codes.PICKUP))
    assert len({tag, stub, pickup}) == 3
    for text, role in ((tag, "T"), (stub, "S"), (pickup, "P")):
        parsed = codes.parse(text)
        assert (parsed.role, parsed.item_id, parsed.generation) == (role, 4242, 0)
        assert codes.authentic(KEY, parsed)


def test_the_secret_part_is_not_derivable_without_the_key():
    # Same item, other key: every mac differs, so knowing the id and ticket gives nothing.
    assert codes.make(KEY, "S", 7) != codes.make(b"x" * 32, "S", 7)
    assert codes.parse(codes.make(KEY, "S", 7)).mac != codes.parse(codes.make(KEY, "T", 7)).mac
    assert not codes.authentic(b"x" * 32, codes.parse(codes.make(KEY, "S", 7)))


def test_changing_any_character_of_the_mac_breaks_authenticity():
    text = codes.make(KEY, "S", 99)
    head, mac = text.rsplit("-", 1)
    for i in range(len(mac)):
        swapped = mac[:i] + ("0" if mac[i] != "0" else "1") + mac[i + 1:]
        assert not codes.authentic(KEY, codes.parse(f"{head}-{swapped}"))


def test_generation_is_part_of_the_mac():
    old, new = codes.make(KEY, "S", 5, 0), codes.make(KEY, "S", 5, 1)
    forged_new = old.replace("-5-0-", "-5-1-")
    assert codes.authentic(KEY, codes.parse(new))
    assert not codes.authentic(KEY, codes.parse(forged_new))


@pytest.mark.parametrize("item_id", [1, 999, 10**6, 10**12, 2**62])
def test_codes_use_the_qr_alphanumeric_set_and_fit_version_4_at_level_m(item_id):
    for role in ("T", "S", "P"):
        text = codes.make(KEY, role, item_id, generation=3)
        assert set(text) <= codes.QR_ALPHANUMERIC
        qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
        qr.add_data(text)
        qr.make(fit=True)
        assert qr.version <= 4, (text, qr.version)


def test_mac_carries_at_least_96_bits():
    assert codes.MAC_CHARS * 5 >= 96
    macs = {codes.parse(codes.make(KEY, "S", i)).mac for i in range(2000)}
    assert len(macs) == 2000


def test_scanner_noise_is_tolerated():
    text = codes.make(KEY, "T", 12)
    assert codes.parse(f"  {text.lower()}\r\n") == codes.parse(text)


@pytest.mark.parametrize("text", ["", "hello", "K1X-1-0-" + "A" * 20, "K1S-1-0-" + "I" * 20, "K1S--0-" + "A" * 20])
def test_malformed_codes_are_rejected(text):
    with pytest.raises(MalformedCode) as error:
        codes.parse(text)
    assert error.value.code == "malformed_code"


def test_oversized_input_is_rejected_before_matching():
    with pytest.raises(CodeTooLong) as error:
        codes.parse("K" * 257)
    assert error.value.code == "code_too_long"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_parser_answers_any_text_with_a_code_or_a_stable_error(text):
    try:
        parsed = codes.parse(text)
    except MalformedCode as error:  # CodeTooLong is a MalformedCode
        assert error.code in {"malformed_code", "code_too_long"}
    else:
        assert parsed.role in ("T", "S", "P")
        assert not codes.authentic(KEY, parsed) or codes.make(KEY, parsed.role, parsed.item_id,
                                                                parsed.generation) == codes.normalise(text)
