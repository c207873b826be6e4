from datetime import UTC, datetime, timedelta

import pytest

from kiosk import policy
from kiosk.errors import AcknowledgementRequired, DepositRefused, InvalidInput
from kiosk.privacy import mask_name, mask_phone
from kiosk.values import Collector, DepositForm, Person

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
OWNER = Person("12-0301", "张伟", "13812345678")


@pytest.mark.parametrize("declared, code", [
    (("flammable",), "refused_hazardous"), (("explosive",), "refused_hazardous"),
    (("toxic",), "refused_hazardous"), (("prohibited",), "refused_hazardous"),
    (("cash",), "refused_valuables"), (("fragile", "valuables"), "refused_valuables"),
])
def test_hazardous_goods_cash_and_valuables_are_refused_with_a_reason(declared, code):
    with pytest.raises(DepositRefused) as error:
        policy.check_refusal(declared)
    assert error.value.code == code and error.value.params["declared"] in declared


def test_valuables_refusal_suggests_a_bank_safe_box():
    with pytest.raises(DepositRefused) as error:
        policy.check_refusal(("valuables",))
    assert (error.value.code, error.value.params) == ("refused_valuables", {"declared": "valuables"})


@pytest.mark.parametrize("declared", [("food",), ("strong_smell",), ("fragile",), ("perishable",)])
def test_owners_risk_goods_need_the_acknowledgement(declared):
    form = DepositForm(kind="short_term", owner=OWNER, declared=declared)
    with pytest.raises(AcknowledgementRequired):
        policy.check_acknowledgement(form)
    policy.check_acknowledgement(DepositForm(kind="short_term", owner=OWNER, declared=declared,
                                             disclaimer_acknowledged=True))


@pytest.mark.parametrize("kind, size, stay, expected", [
    ("luggage", "large", timedelta(hours=24), "front_desk"),
    ("luggage", "large", timedelta(hours=24, minutes=1), "storeroom"),
    ("luggage", "small", timedelta(days=7), "front_desk"),
    ("short_term", "small", timedelta(days=7, minutes=1), "storeroom"),
    ("key", "small", timedelta(days=30), "key_cabinet"),
    ("parcel", "large", timedelta(days=30), "mail_shelf"),
])
def test_storage_suggestion_follows_the_desk_limits(kind, size, stay, expected):
    assert policy.suggest_location(kind, size, NOW, NOW + stay) == expected


def test_deposit_form_checks_fields():
    good = DepositForm(kind="luggage", owner=OWNER, expected_pickup_at=NOW + timedelta(hours=1))
    assert policy.check_deposit(good, NOW).owner.unit == "12-0301"
    cases = [
        (DepositForm(kind="bicycle", owner=OWNER), "invalid_kind"),
        (DepositForm(kind="luggage", owner=OWNER), "missing_field"),
        (DepositForm(kind="luggage", owner=OWNER, expected_pickup_at=NOW - timedelta(hours=1)), "time_in_past"),
        (DepositForm(kind="key", owner=Person("", "x", "13812345678")), "missing_field"),
        (DepositForm(kind="key", owner=OWNER, designated_phone="13700001111"), "missing_field"),
        (DepositForm(kind="key", owner=OWNER, declared=("gold bars",)), "invalid_declaration"),
        (DepositForm(kind="key", owner=OWNER, location="roof"), "invalid_location"),
    ]
    for form, code in cases:
        with pytest.raises(InvalidInput) as error:
            policy.check_deposit(form, NOW)
        assert error.value.code == code, form


def test_collector_id_takes_only_the_last_four_characters():
    assert policy.check_collector(Collector("李明 ", "resident_id", "123x")) == Collector("李明", "resident_id", "123X")
    for last4 in ("110101199003071234", "12", "12 4", ""):
        with pytest.raises(InvalidInput) as error:
            policy.check_collector(Collector("李明", "resident_id", last4))
        assert error.value.code == "invalid_id_last4"
    with pytest.raises(InvalidInput) as error:
        policy.check_collector(Collector("李明", "library_card", "1234"))
    assert error.value.code == "invalid_id_type"


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"), ("+86 138-1234-5678", "861******5678"), ("1234567", "*****67"), ("", ""),
])
def test_phone_masking(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("name, masked", [("张三", "张*"), ("欧阳娜娜", "欧***"), ("Alice Wong", "A**** W***"), ("A", "A*")])
def test_name_masking(name, masked):
    assert mask_name(name) == masked
