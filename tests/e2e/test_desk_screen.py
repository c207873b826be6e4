"""The staff desk in a real browser: a deposit to its printed label, a kiosk scan handed out at the
desk, a mismatched tag refused, a refused deposit in both languages.

Browser flows run once per CI run, on the SQLite pass (like test_kiosk_screen.py).
"""
import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import func, select

from kiosk import accounts
from kiosk.models import AuditEvent
from tests.conftest import POSTGRES_URL, luggage
from tests.e2e.browser import screenshot, serious_violations, sign_in, watch_console
from tests.live import serve
from tests.printing.escpos_helpers import part_text, split_parts
from tests.web.test_print_queue import printer  # noqa: F401  (the loopback printer fixture)
from web.print_worker import run_once

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(POSTGRES_URL is not None, reason="browser flows run once per CI run, on the SQLite pass"),
]


@pytest.fixture
def site(app):
    app.config.update(EVENT_HEARTBEAT_SECONDS=1)
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        session.commit()
    with serve(app) as url:
        yield url
        app.extensions["kiosk.events"].close()


def fill_deposit(page, **declared) -> None:
    page.select_option("#kind", "luggage")
    page.check("#size-1")
    page.fill("#owner_unit", "12-0301")
    page.fill("#owner_name", "张伟")
    page.fill("#owner_phone", "13812345678")
    page.fill("#description", "black suitcase")
    page.fill("#expected_pickup", "2099-01-01T09:00")
    for value in declared.get("declared", ()):
        page.check(f"input[name=declared][value={value}]")


def test_a_deposit_goes_through_to_the_printed_label(app, site, printer, page):  # noqa: F811 (fixture)
    errors = watch_console(page)
    sign_in(page, site)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert serious_violations(page) == []
    screenshot(page, "desk-deposit-form")
    fill_deposit(page)
    page.click("#deposit-form button[type=submit]")
    expect(page.locator("#ticket-no")).to_have_text("A-0001")
    expect(page.locator("#print-status")).to_have_attribute("data-status", "queued")
    page.wait_for_timeout(500)  # the page's event stream is open
    expect(page.locator("#storeroom")).to_be_visible()  # large, kept for years
    assert "13812345678" not in page.content() and "138****5678" in page.content()
    # The label's preview is shown, drawn without the stub's code; the view is in the audit trail.
    preview = page.locator("#label-preview img")
    expect(preview).to_be_visible()
    page.wait_for_function("document.querySelector('#label-preview img').naturalWidth > 0")
    with app.extensions["kiosk.sessions"]() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.event == "label_view")) == 1
    assert serious_violations(page) == []
    assert len(run_once(app).printed) == 1
    tag, stub = split_parts(printer.wait_for_job())  # the loopback printer received both halves
    assert "A-0001" in part_text(tag) and "A-0001" in part_text(stub)
    expect(page.locator("#print-status")).to_have_attribute("data-status", "printed")  # live, no reload
    expect(page.locator("#print-status")).to_have_text("已打印。")
    screenshot(page, "desk-taken-in-printed")
    assert errors == []


@pytest.mark.parametrize("locale,reason,suggestion", [
    ("zh_Hans", "前台不寄存现金或贵重物品。", "建议您使用银行保险箱。"),
    ("en", "The desk does not hold cash or valuables.", "Please use a bank safe deposit box."),
])
def test_a_refused_deposit_says_why_in_the_pages_language(site, page, locale, reason, suggestion):
    sign_in(page, site)
    if locale == "en":
        page.click("button.language[value=en]")
    fill_deposit(page, declared=["valuables"])
    page.click("#deposit-form button[type=submit]")
    expect(page.locator("#refusal .refusal-reason")).to_have_text(reason)
    expect(page.locator("#refusal .refusal-suggestion")).to_have_text(suggestion)
    assert page.input_value("#owner_unit") == "12-0301"  # nothing typed is lost
    assert serious_violations(page) == []
    screenshot(page, f"desk-refused-{locale}")


def test_a_kiosk_scan_waits_on_the_desk_and_is_handed_out_with_its_tag(app, api, tokens, site, page):
    errors = watch_console(page)
    first = api.post("/items", json=luggage()).get_json()
    other = api.post("/items", json=luggage(owner={"unit": "3-0101", "name": "李娜", "phone": "13912345678"}))
    other = other.get_json()
    sign_in(page, site)
    expect(page.locator("#pending-empty")).to_be_visible()
    page.wait_for_timeout(500)  # the event stream is open
    answer = requests.post(f"{site}/api/v1/scans", json={"code": first["stub_code"]},
                           headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
    assert answer.status_code == 200
    row = page.locator("#pending li[data-ticket='A-0001']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("地下储物间")  # where to fetch it from
    screenshot(page, "desk-pending-pickup")

    page.fill("#stub_code", first["stub_code"])
    page.fill("#tag_code", other["tag_code"])
    page.click("#release-form button[type=submit]")
    expect(page.locator("#verdict.mismatch")).to_be_visible()
    expect(page.locator("#verdict")).to_contain_text("不得交付")
    expect(page.locator("#pending li[data-ticket='A-0001']")).to_be_visible()  # still waiting after the reload
    screenshot(page, "desk-tag-mismatch")

    page.fill("#stub_code", first["stub_code"])
    page.fill("#tag_code", first["tag_code"])
    page.click("#release-form button[type=submit]")
    expect(page.locator("#verdict.match")).to_be_visible()
    expect(page.locator("#pending li")).to_have_count(0)  # handed out: off the list
    assert serious_violations(page) == []
    screenshot(page, "desk-released")
    assert errors == []


def test_a_revoked_stub_at_the_kiosk_is_a_live_alert_on_the_desk(api, tokens, site, page):
    errors = watch_console(page)
    body = api.post("/items", json=luggage()).get_json()
    api.post(f"/items/{body['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟", "reissue": True})
    sign_in(page, site)
    page.wait_for_timeout(500)  # the event stream is open
    answer = requests.post(f"{site}/api/v1/scans", json={"code": body["stub_code"]},
                           headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
    assert answer.status_code == 200 and answer.json()["next"] == "wait_for_staff"
    alert = page.locator("#alerts li", has_text="有人出示已作废的认领联")
    expect(alert).to_contain_text(body["ticket_no"])
    expect(page.locator("#alerts li", has_text="需要协助")).to_be_visible()  # and someone is waiting there
    assert serious_violations(page) == []
    alert.scroll_into_view_if_needed()  # the screenshot shows what the clerk sees: the alert
    screenshot(page, "desk-security-alert")
    assert errors == []
