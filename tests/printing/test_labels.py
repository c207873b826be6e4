from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from printing import LabelInvalid
from printing.labels import clean_text

from .conftest import base_label


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "bicycle"},
        {"ticket_no": ""},
        {"ticket_no": "A 0042"},
        {"ticket_no": "A-0042\x1b"},
        {"tag_code": "k1t-lowercase"},
        {"tag_code": "K1T-" + "A" * 40},
        {"claim_code": ""},
        {"claim_code": "K1S-<b>"},
        {"claim_code": "K1T-2BX-0-7Q2MABCDEFGHJKMNPQRS"},  # same as the tag code
        {"deposited_at": datetime(2025, 11, 22, 9, 39)},  # naive
        {"expected_pickup_at": datetime(2025, 11, 23, 18, 0)},
        {"owner_phone_masked": "13812345678"},
        {"designated_collector_masked": "王* 13812345678"},
        {"description": None},
        {"reprint": "yes"},
    ],
)
def test_unprintable_labels_are_refused_with_a_code(changes):
    with pytest.raises(LabelInvalid) as caught:
        base_label(**changes)
    assert caught.value.code == "label_invalid"


def test_a_normal_label_is_accepted(label):
    assert label.has_stub
    assert not replace(label, kind="mail", claim_code="K1P-1").has_stub


def test_clean_text_drops_controls_and_keeps_markup_literally():
    raw = "a\x1b@b\x1dV\x00c\x10\x04\x04d\x7f\x9be\u202ef\u200bg <b>{{x}}</b>\tend"
    assert clean_text(raw) == "a@bVcdefg <b>{{x}}</b> end"


def test_clean_text_keeps_newlines_only_when_asked():
    assert clean_text("one\r\ntwo\rthree") == "one two three"
    assert clean_text("one\r\ntwo\n\n three", multiline=True) == "one\ntwo\nthree"


@settings(max_examples=300, deadline=None)
@given(st.text(), st.booleans())
def test_cleaned_text_encodes_without_any_control_byte(raw, multiline):
    cleaned = clean_text(raw, multiline=multiline)
    assert clean_text(cleaned, multiline=multiline) == cleaned
    encoded = cleaned.encode("gb18030")
    allowed = {0x0A} if multiline else set()
    assert all(b >= 0x20 and b != 0x7F or b in allowed for b in encoded)
