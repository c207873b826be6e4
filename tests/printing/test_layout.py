from dataclasses import replace

import pytest

from printing import layout_label
from printing.layout import Code, Text

from .conftest import PICKUP, STUB, TAG, base_label


def texts(part) -> str:
    return "\n".join(block.text for block in part.blocks if isinstance(block, Text))


@pytest.mark.parametrize(
    ("kind", "claim", "roles"),
    [
        ("luggage", STUB, ("tag", "stub")),
        ("short_term", STUB, ("tag", "stub")),
        ("key", STUB, ("envelope", "stub")),
        ("parcel", PICKUP, ("tag", "notice")),
        ("mail", PICKUP, ("tag", "notice")),
    ],
)
def test_each_kind_prints_its_parts_with_the_right_code_on_each(kind, claim, roles):
    layout = layout_label(base_label(kind=kind, claim_code=claim))
    assert tuple(part.role for part in layout.parts) == roles
    assert layout.parts[0].codes == (TAG,)
    assert layout.parts[1].codes == (claim,)
    for part in layout.parts:
        big = [b for b in part.blocks if isinstance(b, Text) and b.text == "A-0042"]
        assert big and big[0].scale >= 3, "ticket number must be large on every part"


def test_stub_carries_the_bilingual_terms(label):
    stub = texts(layout_label(label).parts[1])
    for phrase in ("唯一凭证", "only proof", "挂失", "room number and name", "24", "7",
                   "储物间", "storeroom", "易腐", "perishable"):
        assert phrase in stub
    assert "唯一凭证" not in texts(layout_label(label).parts[0])


def test_tag_and_stub_show_who_when_where(label):
    for part in layout_label(label).parts:
        text = texts(part)
        for value in ("行李", "12-0301", "张*", "138****5678", "2025-11-22 09:39", "李小红", "前台 Front desk"):
            assert value in text


def test_reprint_is_marked_on_every_part():
    for kind in ("luggage", "key", "mail"):
        layout = layout_label(base_label(kind=kind, reprint=True))
        assert all("补打" in texts(p) and "REPRINT" in texts(p) for p in layout.parts)
    assert not any("REPRINT" in texts(p) for p in layout_label(base_label()).parts)


def test_key_envelope_names_unit_date_and_collector():
    envelope = texts(layout_label(base_label(kind="key", designated_collector_masked="王*")).parts[0])
    assert "钥匙封袋" in envelope and "12-0301" in envelope and "2025-11-22" in envelope and "王*" in envelope


def test_mail_notice_is_the_pickup_notice_and_leaves_the_phone_out():
    notice = texts(layout_label(base_label(kind="mail", claim_code=PICKUP)).parts[1])
    assert "邮件接收通知单" in notice and "Mail pickup notice" in notice
    # It goes into a mailbox: no phone number on it.
    assert "138****5678" not in notice


def test_description_is_cleaned_and_bounded(label):
    long = "x" * 500 + "\x1b@"
    tag = layout_label(replace(label, description=long)).parts[0]
    assert "\x1b" not in texts(tag)
    assert max(len(b.text) for b in tag.blocks if isinstance(b, Text)) <= 160
    assert not any(isinstance(b, Code) and b.payload != label.tag_code for b in tag.blocks)
