"""The database goes away mid-burst: clients get 503 with Retry-After, never a 500, and the
app serves again by itself once the database is back."""
import time

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kiosk.db import normalise_url
from tests.conftest import POSTGRES_URL, luggage


@pytest.fixture
def database_switch(_database_template):
    """Refuse and drop every connection to the test database, then let them back in."""
    url = make_url(normalise_url(POSTGRES_URL))
    name = url.database
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")

    def down():
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})

    def up():
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))

    try:
        yield down, up
    finally:
        up()
        admin.dispose()
        # The suite's own engine (it empties the tables before each test) lost its pooled
        # connection too, and no engine pings before use (kiosk.db): start it afresh.
        _database_template.dispose()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs a database server that can go away")
def test_an_outage_is_503_and_the_app_recovers(live_server, tokens, database_switch):
    down, up = database_switch
    headers = {"Authorization": f"Bearer {tokens['staff']}"}
    with requests.Session() as http:
        assert http.post(f"{live_server}/api/v1/items", json=luggage(), headers=headers, timeout=10).status_code == 201
        down()
        during = [http.post(f"{live_server}/api/v1/items", json=luggage(), headers=headers, timeout=30)
                  for _ in range(10)]
        health = http.get(f"{live_server}/api/v1/health", timeout=30)
        live = http.get(f"{live_server}/api/v1/health/live", timeout=30)
        up()
        deadline, after = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            after = http.post(f"{live_server}/api/v1/items", json=luggage(), headers=headers, timeout=30)
            if after.status_code == 201:
                break
            time.sleep(0.2)
    assert {r.status_code for r in during} == {503}
    assert all(r.headers["Retry-After"] == "2" and r.json()["error"]["code"] == "unavailable" for r in during)
    assert health.status_code == 503 and live.status_code == 200
    assert after is not None and after.status_code == 201, after.text
