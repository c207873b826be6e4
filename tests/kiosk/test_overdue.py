from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, Table

from kiosk import contacts, mail, overdue
from kiosk.errors import InvalidInput
from kiosk.models import UTCDateTime
from kiosk.overdue import Filters, Loans

from .desk import NOW, SHANGHAI, put

H, D = timedelta(hours=1), timedelta(days=1)


@pytest.fixture
def shelf(session, desk, users):
    """One held item per rule (and a few that are fine), committed."""
    staff = users["staff"]
    made = {
        "large_30h": put(session, desk, staff, ago=30 * H, size="large", pickup_in=3 * D),
        "small_8d": put(session, desk, staff, ago=8 * D, kind="short_term", pickup_in=10 * D),
        "small_6d": put(session, desk, staff, ago=6 * D, pickup_in=10 * D),
        "late_pickup": put(session, desk, staff, ago=2 * H, size="large", pickup_in=H),
        "parcel_2d": put(session, desk, staff, ago=2 * D, kind="parcel", pickup_in=None, carrier="SF"),
        "parcel_2d_reached": put(session, desk, staff, ago=2 * D, kind="parcel", pickup_in=None),
        "parcel_fresh": put(session, desk, staff, ago=3 * H, kind="parcel", pickup_in=None),
        "express_2h": put(session, desk, staff, ago=2 * H, kind="mail", pickup_in=None, urgent=True),
        "express_30m": put(session, desk, staff, ago=timedelta(minutes=30), kind="mail", pickup_in=None,
                           urgent=True),
        "mail_undeliverable_4d": put(session, desk, staff, ago=4 * D, kind="mail", pickup_in=None),
        "mail_undeliverable_1d": put(session, desk, staff, ago=D, kind="mail", pickup_in=None),
        "key_30d": put(session, desk, staff, ago=30 * D, kind="key", pickup_in=None),
        "released": put(session, desk, staff, ago=10 * D, size="large"),
    }
    contacts.log_contact(session, staff, made["parcel_2d_reached"].id, method="phone", outcome="reached",
                         now=NOW - D)
    # Found undeliverable four days ago (the return is late), and an hour ago.
    mail.mark_undeliverable(session, staff, made["mail_undeliverable_4d"].id, "moved_out", now=NOW - 4 * D + H)
    mail.mark_undeliverable(session, staff, made["mail_undeliverable_1d"].id, "moved_out", now=NOW - H)
    made["released"].status = "released"
    made["released"].released_at = NOW - 9 * D
    session.commit()
    return made


EXPECTED = {
    "mail_undeliverable_4d": "return_to_post_overdue",
    "express_2h": "express_not_reached",
    "late_pickup": "past_expected_pickup",
    "parcel_2d": "owner_not_reached",
    "small_8d": "long_stay",
    "large_30h": "long_stay",
    "mail_undeliverable_1d": "return_to_post",
    "small_6d": "ok",
    "parcel_2d_reached": "ok",
    "parcel_fresh": "ok",
    "express_30m": "ok",
    "key_30d": "ok",
}


def names(shelf, rows):
    by_id = {item.id: name for name, item in shelf.items()}
    return [by_id[row.item.id] for row in rows]


def test_each_held_item_gets_the_first_rule_that_applies(session, shelf):
    page = overdue.list_items(session, now=NOW, tz=SHANGHAI, limit=100)
    assert {name: row.status for name, row in zip(names(shelf, page.rows), page.rows)} == EXPECTED
    assert page.next_cursor is None


def test_the_list_is_sorted_by_urgency_then_by_how_long(session, shelf):
    rows = overdue.list_items(session, now=NOW, tz=SHANGHAI, limit=100).rows
    ranks = [overdue.RANK[row.status] for row in rows]
    assert ranks == sorted(ranks)
    long_stays = [row for row in rows if row.status == "long_stay"]
    # The small item became a long stay a day ago (8 days - 7); the large one 6 hours ago (30 h - 24).
    assert names(shelf, long_stays) == ["small_8d", "large_30h"]
    assert long_stays[0].since == NOW - D and long_stays[1].since == NOW - 6 * H
    assert rows[0].since == NOW - 4 * D + H + overdue.RETURN_TO_POST_WITHIN


def test_keyset_pages_walk_the_whole_list_once(session, shelf):
    whole = overdue.list_items(session, now=NOW, tz=SHANGHAI, limit=100).rows
    for order in overdue.ORDERS:
        seen, cursor = [], None
        while True:
            page = overdue.list_items(session, now=NOW, tz=SHANGHAI, order=order, limit=3, after=cursor)
            seen += [row.item.id for row in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = [row.item.id for row in whole]
        assert seen == (expected if order == "urgency" else sorted(expected, reverse=True))


def test_filters_narrow_the_list_and_the_summary_alike(session, shelf):
    def listed(**filters):
        return set(names(shelf, overdue.list_items(session, Filters(**filters), now=NOW, tz=SHANGHAI,
                                                   limit=100).rows))

    assert listed(overdue=True) == {name for name, status in EXPECTED.items() if status in overdue.OVERDUE}
    assert listed(kind="parcel") == {"parcel_2d", "parcel_2d_reached", "parcel_fresh"}
    assert listed(kind="parcel", overdue=True) == {"parcel_2d"}
    assert listed(policy=("long_stay", "return_to_post")) == {"small_8d", "large_30h", "mail_undeliverable_1d"}
    assert listed(location="storeroom") == {"large_30h", "small_8d", "small_6d"}   # long stays, from intake
    assert listed(location="management_office") == set()
    assert listed(location="mail_shelf", policy=("ok",)) == {"parcel_2d_reached", "parcel_fresh", "express_30m"}
    assert listed(unit="12-0301") == set(EXPECTED)
    assert listed(unit="99-9999") == set()
    assert listed(status="released", overdue=True) == set()
    assert "released" in listed(status=None)

    counts = overdue.summary(session, now=NOW, tz=SHANGHAI)
    assert counts["long_stay"] == 2 and counts["ok"] == 5 and sum(counts.values()) == len(EXPECTED)
    assert overdue.summary(session, Filters(kind="mail"), now=NOW, tz=SHANGHAI) == {
        **{status: 0 for status in overdue.STATUSES}, "return_to_post_overdue": 1, "return_to_post": 1,
        "express_not_reached": 1, "ok": 1}


def test_statuses_follow_the_clock(session, shelf):
    later = overdue.list_items(session, Filters(kind="mail", policy=("express_not_reached",)),
                               now=NOW + H, tz=SHANGHAI).rows
    assert names(shelf, later) == ["express_2h", "express_30m"]
    assert overdue.status_of(session, shelf["small_6d"], now=NOW + 2 * D, tz=SHANGHAI).status == "long_stay"
    assert overdue.status_of(session, shelf["released"], now=NOW, tz=SHANGHAI).status is None


def test_reaching_the_owner_clears_owner_not_reached(session, shelf, users):
    item = shelf["express_2h"]
    contacts.log_contact(session, users["staff"], item.id, method="phone", outcome="no_answer", now=NOW)
    assert overdue.status_of(session, item, now=NOW, tz=SHANGHAI).status == "express_not_reached"
    contacts.log_contact(session, users["staff"], item.id, method="phone", outcome="promised_pickup",
                         promised_at=NOW + 2 * H, now=NOW)
    assert overdue.status_of(session, item, now=NOW, tz=SHANGHAI).status == "ok"


def test_bad_filters_and_cursors_are_refused(session):
    for filters, field in ((Filters(kind="car"), "kind"), (Filters(location="roof"), "location"),
                           (Filters(status="lost"), "status"), (Filters(policy=("late",)), "policy")):
        with pytest.raises(InvalidInput) as error:
            overdue.list_items(session, filters, now=NOW)
        assert error.value.field == field
    for order, cursor in (("urgency", "12"), ("urgency", "1.x.3"), ("newest", "1.2.3")):
        with pytest.raises(InvalidInput) as error:
            overdue.list_items(session, now=NOW, order=order, after=cursor)
        assert error.value.code == "invalid_cursor"
    with pytest.raises(InvalidInput):
        overdue.list_items(session, now=NOW, order="alphabetical")


# ---------------------------------------------------------------- key loans, through the interface

@pytest.fixture
def loans_table(engine, session):
    """A stand-in for issue 13's loans table, with the columns the rules read."""
    metadata = MetaData()
    table = Table("test_key_loans", metadata, Column("id", Integer, primary_key=True), Column("item_id", Integer),
                  *(Column(name, UTCDateTime) for name in ("lent_at", "due_at", "returned_at")))
    metadata.create_all(engine)
    yield table
    session.close()
    metadata.drop_all(engine)


def test_keys_out_overnight_or_past_due_come_first(session, desk, users, loans_table):
    staff = users["staff"]
    keys = {name: put(session, desk, staff, ago=30 * D, kind="key", pickup_in=None)
            for name in ("overnight", "past_due", "out_on_time", "returned")}
    luggage = put(session, desk, staff, ago=2 * H, size="large", pickup_in=H)
    session.commit()
    # NOW is 18:00 in Shanghai; the desk's day began at 16:00 UTC the day before.
    rows = [
        (keys["overnight"].id, datetime(2026, 11, 21, 15, 30, tzinfo=UTC), NOW + H, None),
        (keys["past_due"].id, NOW - 3 * H, NOW - H, None),
        (keys["out_on_time"].id, NOW - H, NOW + H, None),
        (keys["returned"].id, NOW - 30 * H, NOW - 25 * H, NOW - 26 * H),
    ]
    session.execute(loans_table.insert(), [dict(item_id=i, lent_at=lent, due_at=due, returned_at=back)
                                           for i, lent, due, back in rows])
    for name in ("overnight", "past_due", "out_on_time"):   # a key out on loan is "lent", as the keys work marks it
        keys[name].status = "lent"
    loans = Loans(item_id=loans_table.c.item_id, lent_at=loans_table.c.lent_at, due_at=loans_table.c.due_at,
                  returned_at=loans_table.c.returned_at)
    page = overdue.list_items(session, Filters(overdue=True), now=NOW, tz=SHANGHAI, loans=loans)
    assert [(row.item.id, row.status) for row in page.rows] == [
        (keys["overnight"].id, "key_out_overnight"), (keys["past_due"].id, "key_loan_overdue"),
        (luggage.id, "past_expected_pickup")]
    assert page.rows[1].since == NOW - H
    # Lent keys are in the desk's custody (the default), not on the shelf.
    assert keys["past_due"].id not in {row.item.id for row in overdue.list_items(
        session, Filters(status="held"), now=NOW, tz=SHANGHAI, loans=loans).rows}
    assert overdue.summary(session, Filters(kind="key"), now=NOW, tz=SHANGHAI, loans=loans)["key_out_overnight"] == 1
    # Without loans, keys are only what they are on the shelf.
    assert [row.item.id for row in overdue.list_items(session, Filters(overdue=True), now=NOW, tz=SHANGHAI,
                                                      loans=None).rows] == [luggage.id]
    # By default the rules read the keys work's table, found by name.
    assert overdue.loans_in().due_at.name == "due_back_at"
    meta = MetaData()
    Table(overdue.LOANS_TABLE, meta, *(Column(c, Integer) for c in overdue.LOAN_COLUMNS.values()))
    assert overdue.loans_in(meta) is not None
