import csv
import io
from datetime import timedelta

from kiosk import contacts, exports, overdue
from kiosk.overdue import Filters
from kiosk.values import Person

from .desk import NOW, SHANGHAI, put

H, D = timedelta(hours=1), timedelta(days=1)


def parse(chunks) -> list[dict]:
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def fill(session, desk, users):
    staff = users["staff"]
    made = [
        put(session, desk, staff, ago=3 * D, size="large", pickup_in=D, description="=HYPERLINK(\"x\")",
            owner=Person("3-0102", "王小明", "+86 139-1234-5678")),
        put(session, desk, staff, ago=2 * D, kind="parcel", pickup_in=None, carrier="EMS"),
        put(session, desk, staff, ago=H, pickup_in=D, description="-5 degrees"),
        put(session, desk, staff, ago=8 * D, kind="short_term", pickup_in=10 * D),
        put(session, desk, staff, ago=20 * D, kind="key", pickup_in=None),
    ]
    contacts.log_contact(session, staff, made[1].id, method="phone", outcome="no_answer", now=NOW - H)
    session.commit()
    return made


def test_the_csv_is_the_list_in_the_same_order_with_phones_masked(session, desk, users):
    made = fill(session, desk, users)
    rows = parse(exports.csv_chunks(session, now=NOW, tz=SHANGHAI))
    listed = overdue.list_items(session, now=NOW, tz=SHANGHAI).rows
    assert [r["ticket_no"] for r in rows] == [row.item.ticket_no for row in listed]
    assert [r["policy_status"] for r in rows] == [row.status for row in listed]
    first = rows[0]
    assert first["ticket_no"] == made[0].ticket_no and first["policy_status"] == "past_expected_pickup"
    assert (first["owner_name"], first["owner_phone"], first["unit"]) == ("王小明", "861******5678", "3-0102")
    # Shanghai time, to the minute: deposited three days before 18:00.
    assert first["deposited_at"] == "2026-11-19 18:00" and first["policy_since"] == "2026-11-20 18:00"
    assert first["held_days"] == "3.0"
    assert first["description"] == "'=HYPERLINK(\"x\")"
    assert next(r for r in rows if r["ticket_no"] == made[2].ticket_no)["description"] == "'-5 degrees"
    parcel = next(r for r in rows if r["ticket_no"] == made[1].ticket_no)
    assert (parcel["last_contact"], parcel["last_contact_by"], parcel["contacts"]) == ("phone:no_answer", "staff-1", "1")
    assert parcel["last_contact_at"] == "2026-11-22 17:00" and parcel["next_contact_due"] == "2026-11-23 09:00"
    assert "13912345678" not in b"".join(exports.csv_chunks(session, now=NOW)).decode("utf-8-sig")


def test_the_csv_takes_the_same_filters_and_orders_as_the_list(session, desk, users):
    fill(session, desk, users)
    for filters in (Filters(kind="parcel"), Filters(overdue=True), Filters(policy=("long_stay",)),
                    Filters(status=None), Filters(location="key_cabinet")):
        for order in overdue.ORDERS:
            listed = overdue.list_items(session, filters, now=NOW, tz=SHANGHAI, order=order).rows
            rows = parse(exports.csv_chunks(session, filters, now=NOW, tz=SHANGHAI, order=order))
            assert [r["ticket_no"] for r in rows] == [row.item.ticket_no for row in listed]


def test_the_csv_is_made_a_batch_at_a_time(session, desk, users):
    fill(session, desk, users)
    chunks = exports.csv_chunks(session, now=NOW, tz=SHANGHAI, batch=2)
    header = next(chunks)
    assert header.count(b"\n") == 1
    rest = list(chunks)
    assert [chunk.count(b"\n") for chunk in rest] == [2, 2, 1]


def test_headers_and_codes_in_the_readers_language(session, desk, users):
    fill(session, desk, users)
    words = {("kind", "parcel"): "包裹", ("method", "phone"): "电话", ("outcome", "no_answer"): "无人接听"}
    rows = parse(exports.csv_chunks(session, Filters(kind="parcel"), now=NOW, tz=SHANGHAI,
                                    headers={"kind": "类别", "last_contact": "最近联系"},
                                    words=lambda column, code: words.get((column, code), code)))
    assert (rows[0]["类别"], rows[0]["最近联系"]) == ("包裹", "电话: 无人接听")
