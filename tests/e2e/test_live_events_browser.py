"""A scan through one app server reaches a kiosk page served by another (PostgreSQL LISTEN/NOTIFY).

The one browser test that needs PostgreSQL: it runs on the PostgreSQL pass of CI.
"""
import pytest
import requests
from playwright.sync_api import expect

from tests.conftest import POSTGRES_URL, TEST_SECRET, luggage
from tests.e2e.browser import enrol, screenshot, watch_console
from tests.live import serve
from web import create_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY between app servers needs PostgreSQL"),
]


@pytest.fixture
def server_b(database_url):
    """A second app server on the same database, as a second `kiosk serve` behind a load balancer."""
    other = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
                        "EVENT_HEARTBEAT_SECONDS": 1, "KIOSK_RESULT_SECONDS": 5})
    with serve(other) as url:
        yield other, url
        other.extensions["kiosk.events"].close()
    other.extensions["kiosk.engine"].dispose()


def test_a_scan_through_server_a_reaches_the_kiosk_page_on_server_b(app, api, tokens, server_b, page,
                                                                   announcing):
    other, url_b = server_b
    errors = watch_console(page)
    enrol(page, url_b, other)
    expect(page.locator("#kiosk")).to_have_attribute("data-live", "open")
    body = api.post("/items", json=luggage()).get_json()
    with serve(app) as url_a:
        # The host's camera loop at kiosk lobby-1 scans through server A, as `kiosk scan --server A` does.
        answer = requests.post(f"{url_a}/api/v1/scans", json={"code": body["stub_code"]},
                               headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
        assert answer.status_code == 200
        expect(page.locator("#ticket-no")).to_have_text("A-0001")
        expect(page.locator("#ticket-name")).to_have_text("张*")
        screenshot(page, "kiosk-ticket-from-server-a")
        app.extensions["kiosk.events"].close()
    assert errors == []
