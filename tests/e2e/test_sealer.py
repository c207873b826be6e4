"""Two app servers write at once; the one sealer (whichever holds the lock, and another when it
dies) chains every row they wrote into one verified chain."""
import threading
import time

import pytest
import requests

from kiosk import audit
from tests.conftest import AUDIT_KEY, TEST_SECRET, luggage
from tests.live import kill_server, kiosk_server

pytestmark = pytest.mark.slow


def _deposit(url, token, count, results):
    with requests.Session() as http:
        for _ in range(count):
            response = http.post(f"{url}/api/v1/items", json=luggage(), timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
            results.append(response.status_code)


def _wait_until_sealed(sessions, rows, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            verdict = audit.verify(session, AUDIT_KEY)
        if verdict.rows == rows and verdict.unsealed == 0 or time.monotonic() > deadline:
            return verdict
        time.sleep(0.2)


def test_rows_from_two_app_servers_end_in_one_sealed_chain(database_url, tmp_path, tokens, sessions):
    env = {"KIOSK_DATABASE_URL": database_url, "KIOSK_SECRET_KEY": TEST_SECRET,
           "KIOSK_INSTANCE_PATH": str(tmp_path / "instance")}
    results: list[int] = []
    with kiosk_server(env, "--no-print-worker") as (first, a), kiosk_server(env, "--no-print-worker") as (_, b):
        writers = [threading.Thread(target=_deposit, args=(url, tokens["staff"], 10, results))
                   for url in (a, b, a, b)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=120)
        assert _wait_until_sealed(sessions, 40).unsealed == 0
        # The sealer may be either server: kill the first outright; the other carries on alone.
        kill_server(first)
        first.wait(timeout=10)
        _deposit(b, tokens["staff"], 10, results)
        verdict = _wait_until_sealed(sessions, 50)
    assert results == [201] * 50
    assert verdict.ok and (verdict.rows, verdict.sealed, verdict.unsealed) == (50, 50, 0), verdict.problems
    assert verdict.head_position == 50
