"""Items placed on the desk at chosen times, for the supervisor's rules (overdue, contacts, charts)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from kiosk import ledger
from kiosk.models import Item
from kiosk.values import DepositForm, Person

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)          # 18:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNER = Person("12-0301", "张伟", "13812345678")


def put(session, desk, actor, *, ago: timedelta, pickup_in: timedelta | None = timedelta(days=30),
        **overrides) -> Item:
    """Deposit an item ``ago`` before NOW, expected ``pickup_in`` after its deposit (None: no time given)."""
    at = NOW - ago
    values = dict(kind="luggage", owner=OWNER, size="small", description="bag",
                  expected_pickup_at=at + pickup_in if pickup_in is not None else None)
    values.update(overrides)
    return ledger.deposit(session, desk, actor, DepositForm(**values), now=at).item
