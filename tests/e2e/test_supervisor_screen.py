"""The supervisor's and security's screens in a real browser: an overdue item (under an injected
clock) on the list with its status, filters, the CSV downloaded and parsed, a contact attempt logged
and shown, a reminder queued once, disposal refused without a second approver and done with one,
the charts drawn from the vendored Chart.js, live security alerts resolved, the chain checked —
axe-core clean, in both languages, with screenshots.

Browser flows run once per CI run, on the SQLite pass (like test_desk_screen.py).
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from kiosk import accounts
from tests.conftest import POSTGRES_URL, luggage
from tests.e2e.browser import screenshot, serious_violations, sign_in, watch_console
from tests.live import serve
from tests.web.test_supervisor_pages import mail_parcel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(POSTGRES_URL is not None, reason="browser flows run once per CI run, on the SQLite pass"),
]

# The injected clock: the pages (and the API they call) run three days ahead, so a bag due back
# tomorrow is past its pickup time and a parcel nobody was told of is a day and more unreached.
AHEAD = timedelta(days=3)


@pytest.fixture
def site(app, api):
    app.config.update(EVENT_HEARTBEAT_SECONDS=1)
    with app.extensions["kiosk.sessions"]() as session:
        for name, role in (("wang", "supervisor"), ("li", "supervisor"), ("zhao", "security")):
            accounts.add_user(session, name, role, password=f"{name}-password")
        session.commit()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    api.post("/items", json=luggage(description="black suitcase", expected_pickup_at=tomorrow))
    mail_parcel(app, api)
    api.post("/items", json=luggage(kind="short_term", size="small", description="vegetables",
                                    owner={"unit": "5-0501", "name": "赵敏", "phone": "13700001111"}))
    app.config["CLOCK"] = lambda: datetime.now(UTC) + AHEAD
    with serve(app) as url:
        yield url
        app.extensions["kiosk.events"].close()


def test_the_overdue_list_its_csv_and_the_follow_up_of_an_item(site, page, browser):
    errors = watch_console(page)
    sign_in(page, site, "wang", "/supervisor")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    rows = page.locator("#items tbody tr[data-ticket]")
    expect(rows).to_have_count(3)
    first = rows.nth(0)
    expect(first).to_have_attribute("data-ticket", "A-0001")
    expect(first).to_have_attribute("data-policy", "past_expected_pickup")
    expect(first.locator(".badge")).to_have_text("已过预计领取时间")
    expect(rows.nth(1)).to_have_attribute("data-policy", "owner_not_reached")
    expect(page.locator("#overdue-total")).to_have_text("2")
    assert serious_violations(page) == []
    screenshot(page, "supervisor-list-zh")

    page.select_option("#filter-kind", "parcel")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_have_attribute("data-ticket", "A-0002")
    page.select_option("#filter-kind", "")
    page.check("#filter-overdue")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(2)

    with page.expect_download() as download_info:
        page.click("#csv-download")
    download = download_info.value
    with open(download.path(), "rb") as handle:
        raw = handle.read()
    assert raw.startswith("\ufeff".encode()) and download.suggested_filename.endswith(".csv")
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["编号"], r["跟进状态"], r["电话"]) for r in table] == [
        ("A-0001", "已过预计领取时间", "138****5678"), ("A-0002", "未联系上寄存人", "139****5678")]

    # The contact log: an attempt logged shows in the log, with the next one due.
    rows.nth(1).locator("a").click()
    expect(page.locator("#ticket-no")).to_have_text("A-0002")
    page.select_option("#method", "phone")
    page.select_option("#outcome", "no_answer")
    page.fill("#note", "打了两次")
    page.click("#contact-form button[type=submit]")
    logged = page.locator("#contact-log tbody tr[data-outcome='no_answer']")
    expect(logged).to_contain_text("打了两次")
    expect(logged).to_contain_text("无人接听")
    expect(page.locator("#next-contact")).to_contain_text("再次联系：无人接听")
    # A reminder, twice: the second finds the first still waiting.
    page.select_option("#channel", "sms")
    page.click("#notify-form button[type=submit]")
    page.click("#notify-form button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("未重复排队")
    expect(page.locator("#notifications li")).to_have_count(1)
    assert serious_violations(page) == []
    screenshot(page, "supervisor-item-contacts-zh")

    # Disposal: asked by wang, refused to wang, approved by li.
    page.goto(f"{site}/supervisor")
    page.click("#items a:text('A-0001')")
    item_path = page.url.removeprefix(site)
    page.click("button.language[value=en]")
    page.select_option("#action", "lost_and_found")
    page.fill("#reason", "left for weeks, owner not answering")
    page.click("#disposal-form button[type=submit]")
    expect(page.locator("#second-needed")).to_be_visible()
    page.click("#approve")
    expect(page.locator("#refusal")).to_have_attribute("data-code", "second_approver_required")
    expect(page.locator("#item-status")).to_have_attribute("data-status", "held")
    assert serious_violations(page) == []
    screenshot(page, "supervisor-disposal-refused-en")

    other = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    second = other.new_page()
    sign_in(second, site, "li", item_path)
    second.fill("#note", "photographed, to lost-and-found")
    second.click("#approve")
    expect(second.locator("#item-status")).to_have_attribute("data-status", "lost_and_found")
    expect(second.locator("#trail tr[data-event='lost_and_found']")).to_have_count(1)
    screenshot(second, "supervisor-disposal-approved-en")
    other.close()
    assert errors == []


def test_the_printable_list_and_the_charts(site, page):
    errors = watch_console(page)
    sign_in(page, site, "wang", "/supervisor/charts")
    for canvas in ("#held-chart", "#traffic-chart"):
        expect(page.locator(canvas)).to_have_attribute("data-rendered", "true")
        box = page.locator(canvas).bounding_box()
        assert box["width"] > 300 and box["height"] > 200
    drawn = page.evaluate("() => Chart.getChart('held-chart').data.datasets.map(d => d.label)")
    assert drawn[:2] == ["行李", "钥匙"] and drawn[-1] == "逾期（全部类别）"
    page.locator("details.figures summary").first.click()
    expect(page.locator("#held-table tbody tr")).to_have_count(30)
    assert serious_violations(page) == []
    screenshot(page, "supervisor-charts-zh")
    page.click("button.language[value=en]")
    page.click("a:text('Last 90 days')")
    expect(page.locator("#held-chart")).to_have_attribute("data-rendered", "true")
    drawn = page.evaluate("() => Chart.getChart('traffic-chart').data.datasets.map(d => d.label)")
    assert drawn == ["taken in", "handed out"]
    assert serious_violations(page) == []
    screenshot(page, "supervisor-charts-en")

    page.goto(f"{site}/supervisor/print?overdue=true")
    expect(page.locator("#print-list tbody tr[data-ticket]")).to_have_count(2)
    page.emulate_media(media="print")
    assert not page.locator("header.bar").is_visible() and not page.locator("#print-now").is_visible()
    screenshot(page, "supervisor-print-en")
    page.emulate_media(media="screen")
    assert serious_violations(page) == []
    assert errors == []


def test_security_sees_alerts_live_resolves_them_and_checks_the_chain(app, site, page, api, tokens):
    errors = watch_console(page)
    sign_in(page, site, "zhao", "/security")
    expect(page.locator("#no-alerts")).to_be_visible()
    page.wait_for_timeout(500)  # the event stream is open
    bag = api.post("/items", json=luggage()).get_json()
    api.post(f"/items/{bag['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟"})
    shown = requests.post(f"{site}/api/v1/scans", json={"code": bag["stub_code"]},
                          headers={"Authorization": f"Bearer {tokens['kiosk']}"}, timeout=10)
    assert shown.status_code == 200
    alert = page.locator("#security-alerts li[data-kind='revoked_stub_presented']")
    expect(alert).to_be_visible()       # live, no reload
    expect(alert).to_contain_text("有人出示已失效的凭条")
    assert serious_violations(page) == []
    screenshot(page, "security-live-alert-zh")
    alert.locator("input[name=note]").fill("业主本人，两张凭条")
    alert.locator("button[type=submit]").click()
    expect(page.locator("#no-alerts")).to_be_visible()
    page.fill("#ticket", bag["ticket_no"])
    page.click("form[role=search] button[type=submit]")
    expect(page.locator("#trail tr[data-event='alert_resolved']")).to_have_count(1)
    page.click("button.language[value=en]")
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#verdict")).to_have_attribute("data-ok", "true")
    expect(page.locator("#verdict")).to_contain_text("The chain is intact.")
    assert serious_violations(page) == []
    screenshot(page, "security-chain-verified-en")
    assert errors == []
