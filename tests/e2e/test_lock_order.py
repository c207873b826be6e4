"""Reprint, move, lost stub and release on one item at the same moment: no deadlock, no 5xx.

The rule (kiosk/ledger.py): the item's row before the audit chain, everywhere. Before it
was followed, one reprint beside one move on PostgreSQL deadlocked 4 times in 30 rounds.
"""
from collections import Counter

import pytest
from sqlalchemy import func, select

from kiosk import audit
from kiosk.db import session_factory
from kiosk.models import AuditEvent
from tests.conftest import POSTGRES_URL, luggage
from tests.e2e.test_concurrent_release import race

ROUNDS = 30


@pytest.mark.skipif(not POSTGRES_URL, reason="row locks and deadlocks are PostgreSQL's; SQLite takes one write lock")
def test_four_operations_on_one_item_never_deadlock(live_server, tokens, engine):
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    statuses: Counter = Counter()
    for _ in range(ROUNDS):
        import requests

        item = requests.post(f"{live_server}/api/v1/items", json=luggage(), headers=headers, timeout=10).json()
        path = f"{live_server}/api/v1/items/{item['id']}"
        requests_by_worker = [
            lambda http: http.post(f"{path}/reprint", json={"reason": "torn"}, headers=headers, timeout=30),
            lambda http: http.post(f"{path}/move", json={"location": "storeroom"}, headers=headers, timeout=30),
            lambda http: http.post(f"{path}/lost-stub", json={"unit": "12-0301", "name": "张伟", "reissue": True},
                                   headers=headers, timeout=30),
            lambda http: http.post(f"{path}/release", json={"tag_code": item["tag_code"],
                                                            "stub_code": item["stub_code"]},
                                   headers=headers, timeout=30),
            lambda http: http.post(f"{path}/reprint", json={"reason": "torn"}, headers=headers, timeout=30),
            lambda http: http.post(f"{path}/move", json={"location": "management_office"}, headers=headers,
                                   timeout=30),
        ]
        responses = race(live_server, len(requests_by_worker), lambda http, i: requests_by_worker[i](http))
        statuses.update(r.status_code for r in responses)
    assert not [s for s in statuses if s >= 500], statuses
    with session_factory(engine)() as session:
        verdict = audit.verify(session)
        rows = session.scalar(select(func.count()).select_from(AuditEvent))
    assert verdict.ok and verdict.rows == rows, verdict.problems
