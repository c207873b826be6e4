"""Shift handover in a real browser: two clerks, two browsers, one count.

The outgoing clerk opens the handover; the incoming clerk scans the shelf with a wedge scanner
and both pages follow the progress live; one item in the wrong place and one missing block both
signatures until each is explained (the missing one escalated); both sign; the sheet prints the
audit chain's head; a page that missed the closing is refused a late scan. axe-core checks
every screen, in zh-Hans and English; screenshots land in artifacts/screenshots.

Browser flows run once per CI run, on the SQLite pass (like test_kiosk_screen.py); the two
clerks on two app servers, which needs PostgreSQL's NOTIFY, run on the PostgreSQL pass.
"""
import numpy as np
import pytest
from playwright.sync_api import expect

from kiosk import accounts
from kiosk.models import Handover
from tests.conftest import POSTGRES_URL, TEST_SECRET, key_deposit, luggage
from scanning import synth
from tests.e2e.browser import SCREENSHOTS, screenshot, serious_violations, watch_console, write_y4m
from tests.e2e.conftest import CHROMIUM_FLAGS
from tests.e2e.test_scan_printed_labels import printed_part
from tests.live import serve
from web import create_app

pytestmark = pytest.mark.browser
SQLITE_PASS = pytest.mark.skipif(POSTGRES_URL is not None, reason="browser flows run once per CI run, on the SQLite pass")


@pytest.fixture
def site(app):
    app.config.update(EVENT_HEARTBEAT_SECONDS=1)
    app.extensions["kiosk.events"].max_streams = 8  # three count pages open at once, and their reconnects
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        accounts.add_user(session, "mei", "staff", password="mei-password")
        session.commit()
    with serve(app, threads=12) as url:
        yield url
        app.extensions["kiosk.events"].close()


@pytest.fixture
def clerk(browser, browser_context_args, site):
    """A browser of its own for each clerk (its own cookies), signed in as ``name``."""
    contexts = []

    def sign_in(name: str, url: str = site):
        context = browser.new_context(**browser_context_args)
        contexts.append(context)
        page = context.new_page()
        page.console_errors = watch_console(page)
        page.goto(f"{url}/login?next=/handovers")
        page.fill("#name", name)
        page.fill("#password", f"{name}-password")
        page.press("#password", "Enter")
        page.wait_for_url(f"{url}/handovers")
        return page

    yield sign_in
    for context in contexts:
        context.close()


def live(page) -> None:
    """Wait until the page's event stream is open: what happens next reaches it."""
    expect(page.locator("#count")).to_have_attribute("data-live", "open")
    page.wait_for_timeout(300)


def wedge_scan(page, code: str, location: str) -> None:
    page.select_option("#location", location)
    page.focus("#code")
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def explain(page, key: str, text: str, escalate: bool = False) -> None:
    row = page.locator(f"#difference-list [data-key='{key}']")
    row.locator(".explain-open").click()
    expect(row.locator("textarea")).to_be_focused()
    row.locator("textarea").fill(text)
    if escalate:
        row.locator("input[name=escalate]").check()
    row.locator("button[type=submit]").click()


@SQLITE_PASS
def test_two_clerks_count_explain_and_sign(app, api, site, clerk):
    here, gone, moved = [api.post("/items", json=luggage()).get_json() for _ in range(3)]  # all in the storeroom

    out = clerk("lin")
    assert out.locator("html").get_attribute("lang") == "zh-Hans"
    assert serious_violations(out) == []
    screenshot(out, "handover-list")
    out.fill("#shift_start", "2026-01-01T08:00")
    out.fill("#unfinished", "3-0101 报修未回访")
    out.click("#open-shift button[type=submit]")
    out.wait_for_url(f"{site}/handovers/1")
    expect(out.locator("#expected")).to_have_text("3")
    expect(out.locator("#difference-list .difference")).to_have_count(3)  # nothing scanned: all missing

    inc = clerk("mei")
    inc.click("#continue-shift")
    inc.wait_for_url(f"{site}/handovers/1")
    live(out)
    live(inc)
    expect(inc.locator("#code")).to_be_focused()  # the wedge scanner types straight in

    wedge_scan(inc, here["tag_code"], "storeroom")
    expect(inc.locator("#scan-result")).to_contain_text("A-0001")
    expect(inc.locator("#scan-result")).to_have_class("scan-result match")
    for page in (out, inc):  # both clerks watch the count go up
        expect(page.locator("#found")).to_have_text("1")
        expect(page.locator("#scans li")).to_have_count(1)
        expect(page.locator("#difference-list [data-key='i1']")).to_have_count(0)
    expect(out.locator("#scans li")).to_contain_text("mei")

    wedge_scan(inc, moved["tag_code"], "front_desk")
    expect(inc.locator("#scan-result")).to_have_class("scan-result mismatch")
    for page in (out, inc):
        row = page.locator("#difference-list [data-key='i3']")
        expect(row).to_have_attribute("data-discrepancy", "wrong_place")
        expect(row).to_contain_text("存放位置不符")
        expect(row).to_contain_text("在客服前台找到，账上记为地下储物间")
        expect(page.locator("#unexplained")).to_have_text("2")
    expect(out.locator("#scanned")).to_have_text("2")
    out.click("#expected-details summary")  # every item held, with what the count found so far
    expect(out.locator("#expected-table tr[data-key='i3'] .finding")).to_have_text("已清点 · 客服前台")
    expect(out.locator("#expected-table tr[data-key='i2']")).to_have_attribute("data-finding", "missing")
    assert serious_violations(inc) == []
    screenshot(inc, "handover-counting-incoming")
    screenshot(out, "handover-counting-outgoing")

    out.click("#sign")  # the outgoing clerk may not leave yet
    expect(out.locator("#refusal")).to_have_attribute("data-code", "discrepancies_unexplained")
    expect(out.locator("#refusal")).to_contain_text("还有 2 处差异未说明")
    assert serious_violations(out) == []
    screenshot(out, "handover-sign-refused")

    live(out)
    explain(inc, "i2", "货架上没有，已报安保", escalate=True)
    inc.wait_for_url(f"{site}/handovers/1#differences")
    expect(inc.locator("#difference-list [data-key='i2']")).to_have_attribute("data-explained", "true")
    expect(inc.locator("#difference-list [data-key='i2']")).to_contain_text("已上报安保")
    expect(out.locator("#difference-list [data-key='i2']")).to_have_attribute("data-explained", "true")  # live on the other page
    explain(inc, "i3", "放回储物间")
    expect(inc.locator("#unexplained")).to_have_text("0")
    expect(out.locator("#unexplained")).to_have_text("0")
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Handover).one().state == "open"
    assert api.get("/alerts", role="security").get_json()["alerts"][0]["kind"] == "item_missing"

    # A second tab of the incoming clerk's that lost its live channel: it will not see the closing.
    stale = inc.context.new_page()
    stale.console_errors = watch_console(stale)
    stale.route("**/events", lambda route: route.abort())
    stale.goto(f"{site}/handovers/1")

    live(out)
    out.click("#sign")
    expect(out.locator("#sign-outgoing")).to_have_attribute("data-signed", "true")
    expect(inc.locator("#sign-outgoing")).to_have_attribute("data-signed", "true")  # live
    inc.click("#sign")
    inc.wait_for_url(f"{site}/handovers/1/sheet")
    expect(out.locator("#closed")).to_be_visible()  # live: the count is closed on the other page
    expect(out.locator("#scan-form")).to_have_count(0)
    expect(out.locator("#state")).to_have_text("已签字")

    with app.extensions["kiosk.sessions"]() as session:
        row = session.query(Handover).one()
        chain_hash, chain_seq = row.chain_hash, row.chain_seq
    expect(inc.locator("#chain-hash")).to_have_text(chain_hash)
    expect(inc.locator("#sheet-anchor")).to_contain_text(f"第 {chain_seq} 条记录")
    expect(inc.locator("#sheet-intact")).to_have_attribute("data-intact", "true")
    expect(inc.locator("#sheet-differences")).to_contain_text("货架上没有，已报安保")
    expect(inc.locator("#signed-incoming")).not_to_have_text("")
    expect(inc.locator("#draft")).to_have_count(0)
    assert serious_violations(inc) == []
    screenshot(inc, "handover-sheet")
    inc.emulate_media(media="print")
    expect(inc.locator("header.bar")).to_be_hidden()
    expect(inc.locator("#print")).to_be_hidden()
    inc.screenshot(path=str(SCREENSHOTS / "handover-sheet-print.png"), full_page=True)
    inc.pdf(path=str(SCREENSHOTS / "handover-sheet.pdf"), format="A4")  # what the desk's printer gets

    wedge_scan(stale, gone["tag_code"], "storeroom")  # signed means immutable
    expect(stale.locator("#scan-result")).to_have_text("交接单 1 已由双方签字，不能再修改。")
    screenshot(stale, "handover-late-scan-refused")

    # The same sheet in English.
    out.click("button.language[value=en]")
    out.goto(f"{site}/handovers/1/sheet")
    expect(out.locator("html")).to_have_attribute("lang", "en")
    expect(out.locator("#sheet-anchor")).to_contain_text(f"record no. {chain_seq}")
    expect(out.locator("#sheet-differences")).to_contain_text("found at Front desk, the ledger says Basement storeroom")
    assert serious_violations(out) == []
    screenshot(out, "handover-sheet-en")
    for page in (out, inc, stale):
        assert page.console_errors == []


@SQLITE_PASS
def test_the_key_count_in_english(api, site, clerk):
    keys = [api.post("/keys", json=key_deposit(key_kind=kind)).get_json()
            for kind in ("unit_key", "car_card", "shop_key")]
    out = clerk("lin")
    out.click("button.language[value=en]")
    out.click("#open-keys button[type=submit]")
    out.wait_for_url(f"{site}/handovers/1")
    expect(out.locator("h1")).to_contain_text("Monthly key count")
    expect(out.locator("#location")).to_have_value("key_cabinet")
    live(out)
    wedge_scan(out, keys[0]["tag_code"], "key_cabinet")
    expect(out.locator("#scan-result")).to_contain_text("A-0001: Found")
    wedge_scan(out, keys[1]["stub_code"], "key_cabinet")  # the owner's stub is not what is counted
    expect(out.locator("#scan-result")).to_have_text("Scan the tag on the item, not the stub.")
    expect(out.locator("#found")).to_have_text("1")
    expect(out.locator("#difference-list [data-key='i3']")).to_have_attribute("data-discrepancy", "missing")
    handed = api.post(f"/items/{keys[2]['id']}/release", json={"stub_code": keys[2]["stub_code"],
                                                               "tag_code": keys[2]["tag_code"]})
    assert handed.status_code == 200
    expect(out.locator("#difference-list [data-key='i3']")).to_have_count(0)  # handed out: gone, not missing
    expect(out.locator("#expected-table tr[data-key='i3']")).to_have_attribute("data-finding", "gone")
    expect(out.locator("#unexplained")).to_have_text("1")
    assert serious_violations(out) == []
    screenshot(out, "key-count-en")
    out.click("#sheet-link")
    expect(out.locator("#sheet-key-kinds tr[data-key-kind='car_card']")).to_contain_text("Car cards")
    expect(out.locator("#draft")).to_be_visible()
    assert serious_violations(out) == []
    screenshot(out, "key-count-sheet-en")
    assert out.console_errors == []


@SQLITE_PASS
def test_the_browser_camera_counts_a_printed_tag(api, site, browser_type, browser_type_launch_args, tmp_path):
    body = api.post("/items", json=luggage()).get_json()
    tag = printed_part(api.get(f"/items/{body['id']}/label.png").data, body["tag_code"])
    rng = np.random.default_rng(16)
    frames = [synth.empty(rng).image for _ in range(2)]
    frames += [synth.photograph(body["tag_code"], "clean", rng, source=tag).image for _ in range(4)]
    video = tmp_path / "tag.y4m"
    write_y4m(video, frames)
    camera_flags = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={video}"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_FLAGS + camera_flags})
    try:
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
        errors = watch_console(page)
        page.goto(f"{site}/login?next=/handovers")
        page.fill("#name", "lin")
        page.fill("#password", "lin-password")
        page.press("#password", "Enter")
        page.fill("#shift_start", "2026-01-01T08:00")
        page.click("#open-shift button[type=submit]")
        page.wait_for_url(f"{site}/handovers/1")
        page.select_option("#location", "storeroom")
        page.click("#camera-start")
        expect(page.locator("#camera")).to_be_visible()
        expect(page.locator("#camera-start")).to_be_hidden()
        expect(page.locator("#found")).to_have_text("1", timeout=20000)
        expect(page.locator("#scan-result")).to_contain_text("A-0001")
        page.wait_for_timeout(1500)  # the tag stays in view: counted once, not again and again
        expect(page.locator("#scanned")).to_have_text("1")
        assert serious_violations(page) == []
        screenshot(page, "handover-camera")
        page.click("#camera-stop")
        expect(page.locator("#camera")).to_be_hidden()
        expect(page.locator("#camera-start")).to_be_visible()
        assert errors == []
    finally:
        browser.close()


@pytest.fixture
def server_b(database_url):
    """A second app server on the same database, as a second `kiosk serve` behind a load balancer."""
    other = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
                        "EVENT_HEARTBEAT_SECONDS": 1})
    with serve(other) as url:
        yield url
        other.extensions["kiosk.events"].close()
    other.extensions["kiosk.engine"].dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY between app servers needs PostgreSQL")
def test_the_incoming_clerks_scans_on_server_b_reach_the_outgoing_page_on_server_a(api, site, server_b, clerk,
                                                                                   announcing):
    here, moved = [api.post("/items", json=luggage()).get_json() for _ in range(2)]
    out = clerk("lin", site)
    out.fill("#shift_start", "2026-01-01T08:00")
    out.click("#open-shift button[type=submit]")
    out.wait_for_url(f"{site}/handovers/1")
    inc = clerk("mei", server_b)
    inc.goto(f"{server_b}/handovers/1")
    live(out)
    live(inc)
    wedge_scan(inc, here["tag_code"], "storeroom")
    wedge_scan(inc, moved["tag_code"], "front_desk")
    expect(out.locator("#found")).to_have_text("2")
    expect(out.locator("#scans li")).to_have_count(2)
    expect(out.locator("#difference-list [data-key='i2']")).to_have_attribute("data-discrepancy", "wrong_place")
    explain(inc, "i2", "放回储物间")
    expect(out.locator("#difference-list [data-key='i2']")).to_have_attribute("data-explained", "true")
    screenshot(out, "handover-from-server-b")
    for page in (out, inc):
        assert page.console_errors == []
