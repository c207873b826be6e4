"""Two desks, one item, the same moment: exactly one hands it out.

Real HTTP requests on separate connections to a real server; on PostgreSQL
(KIOSK_TEST_DATABASE_URL) this is the proof that release is one atomic write.
"""
import threading
from collections import Counter

import requests
from sqlalchemy import func, select

from kiosk.models import AuditEvent
from tests.conftest import luggage, sealed_verdict

CLIENTS = 8


def race(url: str, n: int, send) -> list[requests.Response]:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i):
        with requests.Session() as http:
            http.get(f"{url}/api/v1/health", timeout=10)  # connect before the start line
            barrier.wait()
            results[i] = send(http, i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_releases_of_one_item_give_exactly_one_success(live_server, tokens, session):
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    for round_no in range(3):
        body = requests.post(f"{live_server}/api/v1/items", json=luggage(), headers=headers, timeout=10).json()
        halves = {"stub_code": body["stub_code"], "tag_code": body["tag_code"]}
        responses = race(live_server, CLIENTS, lambda http, i: http.post(
            f"{live_server}/api/v1/items/{body['id']}/release", json=halves, headers=headers, timeout=30))
        outcome = Counter((r.status_code, r.json().get("error", {}).get("code")) for r in responses)
        assert outcome == {(200, None): 1, (409, "already_released"): CLIENTS - 1}, (round_no, outcome)
        releases = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event == "release", AuditEvent.item_id == body["id"]))
        session.rollback()
        assert releases == 1
    assert sealed_verdict(session).ok


def test_concurrent_deposits_get_distinct_tickets_and_an_unbroken_chain(live_server, tokens, session):
    headers = {"Authorization": f"Bearer {tokens['staff']}"}

    def deposit_five(http, i):
        return [http.post(f"{live_server}/api/v1/items", json=luggage(), headers=headers, timeout=30)
                for _ in range(5)]

    batches = race(live_server, CLIENTS, deposit_five)
    responses = [r for batch in batches for r in batch]
    assert [r.status_code for r in responses] == [201] * CLIENTS * 5
    tickets = {r.json()["ticket_no"] for r in responses}
    assert tickets == {f"A-{n:04d}" for n in range(1, CLIENTS * 5 + 1)}
    verdict = sealed_verdict(session)
    assert verdict.ok and verdict.rows == verdict.sealed == CLIENTS * 5
