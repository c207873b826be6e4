"""The complaints desk in a real browser: a resident files at the kiosk and the desk sees it
live; the desk takes it, replies in time, walks it to closed through an unsatisfied follow-up
that reopens it; the weekly analysis counts it; a written complaint cannot close without its
written reply; a reply promised and not given shows overdue under a moved clock; the kiosk's
page when it has filed all it may. Every page is checked with axe-core, in Chinese and English.

Browser flows run once per CI run, on the SQLite pass (like test_kiosk_screen.py).
"""
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from kiosk import accounts
from kiosk.models import Complaint
from tests.conftest import POSTGRES_URL
from tests.e2e.browser import enrol, screenshot, serious_violations, sign_in, watch_console
from tests.live import serve
from web import complaint_watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(POSTGRES_URL is not None, reason="browser flows run once per CI run, on the SQLite pass"),
]

# Thursday 7 May 2026, 10:00 in Shanghai: one working day later is Friday 10:00.
START = datetime(2026, 5, 7, 2, tzinfo=UTC)
CONTEXT = {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def clock(app):
    now = {"now": START}
    app.config["CLOCK"] = lambda: now["now"]

    class Clock:
        def __call__(self):
            return now["now"]

        def advance(self, **delta):
            now["now"] += timedelta(**delta)

    return Clock()


@pytest.fixture
def site(app, clock):
    app.config.update(EVENT_HEARTBEAT_SECONDS=1)
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        accounts.add_user(session, "wang", "supervisor", password="wang-password")
        session.commit()
    with serve(app) as url:
        yield url
        app.extensions["kiosk.events"].close()


def english(page) -> None:
    page.click("button.language[value=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def accessible(page, name: str) -> None:
    assert serious_violations(page) == [], name
    screenshot(page, name)


def live(page, where: str) -> None:
    """Wait until the page's event stream is open (its script marks ``where`` data-live="open");
    the server holds only a few streams, and a page opened while those of the pages before it
    are still being let go waits a moment for its own."""
    expect(page.locator(f"{where}[data-live=open]")).to_have_count(1, timeout=10_000)


def file_at_kiosk(kiosk, site: str, text: str = "三楼走廊的灯不亮了") -> None:
    kiosk.goto(f"{site}/kiosk/request")
    kiosk.check("input[name=kind][value=complaint]")
    kiosk.select_option("#category", "environment")
    kiosk.fill("#unit", "12-0301")
    kiosk.fill("#name", "张伟")
    kiosk.fill("#phone", "13812345678")
    kiosk.fill("#text", text)
    kiosk.click("button[type=submit].primary")


def step(page, to: str, **fields) -> None:
    form = page.locator(f"#move-{to}")
    if "satisfied" in fields:
        form.locator(f"input[name=satisfied][value={fields['satisfied']}]").check()
    if "reply" in fields:
        form.locator("textarea[name=reply]").fill(fields["reply"])
    if fields.get("written"):
        form.locator("input[name=written]").check()
    if "note" in fields:
        form.locator("textarea[name=note]").fill(fields["note"])
    form.locator("button[type=submit]").click()


def test_a_kiosk_filing_reaches_the_desk_live_and_is_walked_to_closed(app, site, clock, browser, page):
    errors = watch_console(page)
    sign_in(page, site, path="/complaints?view=unowned")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    expect(page.locator("#no-complaints")).to_be_visible()
    accessible(page, "complaints-empty")
    live(page, "body")

    kiosk_context = browser.new_context(**CONTEXT)
    kiosk = kiosk_context.new_page()
    kiosk_errors = watch_console(kiosk)
    enrol(kiosk, site, app)
    kiosk.goto(f"{site}/kiosk/request")
    accessible(kiosk, "kiosk-request-form")
    file_at_kiosk(kiosk, site)
    expect(kiosk.locator("h1")).to_have_text("谢谢，我们已收到")
    screenshot(kiosk, "kiosk-request-filed")
    assert kiosk_errors == []
    kiosk_context.close()

    # On the desk without a reload: the list read itself again when the filing's event came.
    row = page.locator("#complaints tr[data-complaint='1']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("尚无人受理")
    expect(row).to_contain_text("2026-05-08 10:00")  # one working day
    assert "13812345678" not in page.content() and "138****5678" in page.content()
    accessible(page, "complaints-kiosk-filing-live")

    row.locator("a").first.click()
    expect(page.locator("#complaint-state")).to_have_attribute("data-state", "received")
    accessible(page, "complaint-received")
    step(page, "acknowledged")
    expect(page.locator("#owner")).to_have_text("lin")
    expect(page.locator("#resident")).to_contain_text("13812345678")  # its owner calls back
    page.fill("#reply-text", "您好，已安排维修，今天下午修好。")
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#first-reply")).to_contain_text("2026-05-07 10:00")  # in time
    step(page, "in_progress")
    step(page, "resolved", note="已更换灯管")
    step(page, "followed_up", satisfied="no", note="业户说灯还是闪")
    expect(page.locator("#complaint-state")).to_have_attribute("data-state", "in_progress")  # reopened
    expect(page.locator("#steps tr[data-action=reopened]")).to_have_count(1)
    expect(page.locator("#steps tr[data-action=follow_up]")).to_contain_text("不满意")
    screenshot(page, "complaint-reopened")
    step(page, "resolved", note="更换了镇流器")
    step(page, "followed_up", satisfied="yes")
    step(page, "closed")
    expect(page.locator("#complaint-state")).to_have_attribute("data-state", "closed")
    expect(page.locator("#complaint-state")).to_have_text("已结案")
    expect(page.locator("#next-title")).to_have_count(0)
    accessible(page, "complaint-closed")

    # The weekly analysis counts it (a supervisor's page), with its chart; then in English.
    supervisor = browser.new_context(**CONTEXT).new_page()
    supervisor_errors = watch_console(supervisor)
    sign_in(supervisor, site, "wang", "/complaints/analysis")
    expect(supervisor.locator("#span")).to_contain_text("2026-W19")
    expect(supervisor.locator("[data-figure=received] dd")).to_have_text("1")
    expect(supervisor.locator("[data-figure=closed] dd")).to_have_text("1")
    expect(supervisor.locator("[data-figure=follow_ups] dd")).to_have_text("2")
    expect(supervisor.locator("[data-figure=satisfaction_rate] dd")).to_have_text("50%")
    expect(supervisor.locator("#by-channel tr[data-key=kiosk] td")).to_have_text("1")
    supervisor.wait_for_function("() => window.Chart && Chart.getChart('chart-category') !== undefined")
    accessible(supervisor, "complaints-analysis")
    english(supervisor)
    expect(supervisor.locator("#by-category tr[data-key=environment] th")).to_have_text("Environment (cleaning, green)")
    csv = requests.get(f"{site}/api/v1/complaints/analysis.csv?week=2026-W19",
                       cookies={c["name"]: c["value"] for c in supervisor.context.cookies()}, timeout=10)
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    accessible(supervisor, "complaints-analysis-en")
    assert supervisor_errors == []
    assert errors == []


def test_a_written_complaint_cannot_close_without_its_written_reply(site, clock, tokens, page):
    errors = watch_console(page)
    sign_in(page, site, path="/complaints/new")
    english(page)
    page.select_option("#kind", "complaint")
    page.select_option("#channel", "letter")
    page.select_option("#category", "general_service")
    page.fill("#unit", "3-0101")
    page.fill("#name", "李娜")
    page.fill("#contact", "lina@example.com")
    page.fill("#content", "A letter about the parking fees.")
    accessible(page, "complaint-new-en")
    page.click("#take-form button[type=submit]")
    expect(page.locator("#done")).to_contain_text("The reply is promised by 2026-05-08 10:00.")
    expect(page.locator("#written")).to_have_text("needed before it can close")
    step(page, "acknowledged")
    step(page, "resolved")
    step(page, "followed_up", satisfied="yes")
    step(page, "closed")
    expect(page.locator("#refusal")).to_contain_text("A written complaint closes only after its written reply")
    expect(page.locator("#complaint-state")).to_have_attribute("data-state", "followed_up")
    accessible(page, "complaint-written-reply-required-en")
    live(page, "#complaint")
    # A supervisor records a call meanwhile: the open page says so without losing anything.
    called = requests.post(f"{site}/api/v1/complaints/1/replies", json={"text": "Called her back."}, timeout=10,
                           headers={"Authorization": f"Bearer {tokens['supervisor']}"})
    assert called.status_code == 200
    expect(page.locator("#changed")).to_be_visible()
    page.click("#changed a")
    expect(page.locator("#replies li")).to_have_count(1)
    expect(page.locator("#replies li")).to_contain_text("by word of mouth")
    step(page, "closed", reply="Our written answer, sent by post.", written=True)
    expect(page.locator("#complaint-state")).to_have_attribute("data-state", "closed")
    expect(page.locator("#written")).to_contain_text("given")
    expect(page.locator("#replies li[data-written=true]")).to_contain_text("Our written answer, sent by post.")
    assert errors == []


def test_an_unkept_promise_shows_overdue_on_the_desk_and_the_late_reply_says_so(app, site, clock, page):
    errors = watch_console(page)
    sign_in(page, site, path="/complaints/new")
    page.select_option("#channel", "phone")
    page.select_option("#category", "security")
    page.fill("#unit", "8-1202")
    page.fill("#name", "王芳")
    page.fill("#contact", "13912345678")
    page.fill("#content", "单元门禁坏了")
    page.fill("#reply_due", "2026-05-07T15:00")  # a time the clerk promised
    page.click("#take-form button[type=submit]")
    expect(page.locator("#reply-due")).to_contain_text("2026-05-07 15:00")

    clock.advance(hours=6)  # 16:00: the promise is broken (and the 30-minute session is over)
    sign_in(page, site, path="/complaints")
    expect(page.locator("#late-list li[data-complaint='1']")).to_contain_text("2026-05-07 15:00")
    expect(page.locator("#complaints tr[data-complaint='1'].overdue")).to_be_visible()
    live(page, "body")
    assert complaint_watch.run_once(app, now=clock()) != []  # the background check raises the alert
    expect(page.locator("#live-note")).not_to_be_empty()  # the page heard of it and read itself again
    accessible(page, "complaints-overdue")

    page.click("#late-list a")
    expect(page.locator("#overdue")).to_be_visible()
    accessible(page, "complaint-overdue")
    page.fill("#reply-text", "抱歉回复晚了，明早修好门禁。")
    page.click("#reply-form button[type=submit]")
    expect(page.locator("#overdue")).to_have_count(0)
    expect(page.locator("#steps tr[data-action=reply]")).to_contain_text("超时")
    with app.extensions["kiosk.sessions"]() as session:
        assert session.get(Complaint, 1).first_reply_at is not None
    page.goto(f"{site}/complaints")
    expect(page.locator("#late-none")).to_be_visible()
    assert errors == []


@pytest.mark.parametrize("locale,title", [("zh_Hans", "本屏幕暂时不能再受理诉求"),
                                          ("en", "This screen cannot take more requests just now")])
def test_the_kiosk_says_plainly_when_it_has_filed_all_it_may(app, site, clock, tokens, page, locale, title):
    errors = watch_console(page)
    for n in range(10):  # ten filings from this kiosk in ten minutes: the most it takes
        filed = requests.post(f"{site}/api/v1/complaints", timeout=10, headers={
            "Authorization": f"Bearer {tokens['kiosk']}"}, json={
            "kind": "help", "category": "other", "unit": "1-0101", "name": "测试", "contact": "13800000000",
            "content": f"第 {n} 条"})
        assert filed.status_code == 201
    enrol(page, site, app)
    if locale == "en":
        english(page)
    file_at_kiosk(page, site)
    expect(page.locator("#limit-title")).to_have_text(title)
    accessible(page, f"kiosk-request-limit-{locale}")
    assert errors == []


def test_the_calendar_and_a_printable_work_order(site, clock, page):
    errors = watch_console(page)
    sign_in(page, site, "wang", "/complaints/calendar")
    accessible(page, "complaints-calendar")
    page.fill("#day", "2026-05-08")
    page.fill("#name", "调休放假")
    page.click("#day-form button[type=submit]")
    expect(page.locator("#days tr[data-day='2026-05-08'][data-working=false]")).to_contain_text("调休放假")
    expect(page.locator("#upcoming")).to_contain_text("2026-05-11")  # Friday off: Monday is next
    accessible(page, "complaints-calendar-holiday")

    page.goto(f"{site}/complaints/new")
    page.select_option("#kind", "repair")
    page.select_option("#channel", "visit")
    page.select_option("#category", "equipment")
    page.fill("#unit", "5-0203")
    page.fill("#name", "赵强")
    page.fill("#contact", "13700001111")
    page.fill("#content", "地下车库入口的道闸抬不起来")
    page.select_option("#repair_scope", "public")
    page.fill("#repair_location", "地下车库入口")
    page.click("#take-form button[type=submit]")
    expect(page.locator("#reply-due")).to_contain_text("2026-05-11 10:00")  # the holiday does not count
    expect(page.locator("#work-order")).to_have_attribute("data-state", "issued")
    page.click("#work-order a")
    expect(page.locator("#work-order-sheet h1")).to_have_text("工程维修单")
    assert "13700001111" not in page.content() and "137****1111" in page.content()
    accessible(page, "work-order-printable")
    page.emulate_media(media="print")
    expect(page.locator(".subnav")).to_be_hidden()
    screenshot(page, "work-order-print")
    page.emulate_media(media="screen")
    english(page)
    page.goto(f"{site}/complaints/work-orders")
    expect(page.locator("#work-orders tr[data-order='1']")).to_contain_text("Public area")
    accessible(page, "work-orders-en")
    assert errors == []
