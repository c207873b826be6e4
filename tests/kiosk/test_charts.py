import random
from datetime import UTC, datetime, time, timedelta

import pytest

from kiosk import charts, policy
from kiosk.errors import InvalidInput

from .desk import NOW, SHANGHAI, put

H, D = timedelta(hours=1), timedelta(days=1)


def became_overdue(item):
    if item.kind == "key":
        return item.expected_pickup_at
    limit = policy.LARGE_AT_DESK if item.size == "large" else policy.SMALL_AT_DESK
    return min(t for t in (item.expected_pickup_at, item.deposited_at + limit) if t is not None)


def by_hand(items, days):
    """The same counts, item by item, day by day: held at the end of each local day."""
    today = NOW.astimezone(SHANGHAI).date()
    held = {kind: [] for kind in policy.KINDS}
    late = {kind: [] for kind in policy.KINDS}
    for offset in range(days - 1, -1, -1):
        end = datetime.combine(today - timedelta(days=offset - 1), time(0), tzinfo=SHANGHAI)
        for kind in policy.KINDS:
            here = [i for i in items if i.kind == kind and i.deposited_at < end
                    and (i.released_at is None or i.released_at >= end)]
            held[kind].append(len(here))
            late[kind].append(sum(1 for i in here if (t := became_overdue(i)) is not None and t < end))
    return held, late


@pytest.fixture
def history(session, desk, users):
    rng = random.Random(14)
    items = []
    for n in range(70):
        kind = rng.choice(policy.KINDS)
        ago = timedelta(minutes=rng.randrange(0, 100 * 24 * 60))
        pickup = None if kind in ("key", "parcel", "mail") and rng.random() < .7 else \
            timedelta(minutes=rng.randrange(10, 12 * 24 * 60))
        item = put(session, desk, users["staff"], ago=ago, kind=kind, pickup_in=pickup,
                   size=rng.choice(policy.SIZES))
        if rng.random() < .6:
            item.status = rng.choice(("released", "released", "disposed", "returned"))
            item.released_at = min(NOW, item.deposited_at + timedelta(minutes=rng.randrange(1, 20 * 24 * 60)))
        items.append(item)
    session.commit()
    return items


@pytest.mark.parametrize("days", charts.WINDOWS)
def test_held_and_overdue_per_day_agree_with_counting_by_hand(session, history, days):
    chart = charts.held_per_day(session, days=days, now=NOW, tz=SHANGHAI)
    assert len(chart.days) == days and chart.days[-1] == NOW.astimezone(SHANGHAI).date()
    assert chart.days[0] == chart.days[-1] - timedelta(days=days - 1)
    held, late = by_hand(history, days)
    assert chart.held == held
    assert chart.overdue == late
    assert sum(map(sum, held.values())) > days and sum(map(sum, late.values())) > 0


def test_a_bag_through_its_days(session, desk, users):
    # Deposited 4 days ago at 18:00 Shanghai, due a day later, collected yesterday at noon.
    bag = put(session, desk, users["staff"], ago=4 * D, size="large", pickup_in=D)
    bag.status, bag.released_at = "released", NOW - D - 6 * H
    session.commit()
    chart = charts.held_per_day(session, days=30, now=NOW, tz=SHANGHAI)
    assert chart.held["luggage"][-6:] == [0, 1, 1, 1, 0, 0]
    assert chart.overdue["luggage"][-6:] == [0, 0, 1, 1, 0, 0]
    assert chart.held["parcel"] == [0] * 30


def test_deposits_and_releases_per_local_hour(session, desk, users):
    staff = users["staff"]
    # 18:00, 18:30 and 09:00 Shanghai time deposits; one collected at 20:00, one disposed at 21:00.
    a = put(session, desk, staff, ago=D)
    put(session, desk, staff, ago=timedelta(minutes=30) + 2 * D)
    b = put(session, desk, staff, ago=9 * H)
    put(session, desk, staff, ago=40 * D)     # outside the 30-day window, inside the 90-day one
    a.status, a.released_at = "released", NOW - D + 2 * H
    b.status, b.released_at = "disposed", NOW - 6 * H
    session.commit()
    month = charts.per_hour(session, days=30, now=NOW, tz=SHANGHAI)
    assert month.days == 30 and len(month.deposits) == len(month.releases) == 24
    assert {h: n for h, n in enumerate(month.deposits) if n} == {9: 1, 17: 1, 18: 1}
    assert {h: n for h, n in enumerate(month.releases) if n} == {20: 1}
    assert sum(charts.per_hour(session, days=90, now=NOW, tz=SHANGHAI).deposits) == 4


def test_only_the_offered_windows(session):
    with pytest.raises(InvalidInput) as error:
        charts.held_per_day(session, days=7, now=NOW)
    assert error.value.params == {"field": "days", "choices": (30, 90)}


def test_utc_sites_count_utc_days(session, desk, users):
    put(session, desk, users["staff"], ago=H)
    chart = charts.held_per_day(session, days=30, now=NOW, tz=UTC)
    assert chart.days[-1] == NOW.date() and chart.held["luggage"][-1] == 1
