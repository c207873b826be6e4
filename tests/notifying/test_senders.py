"""The senders against real receivers on loopback."""
import socket
from datetime import UTC, datetime

import pytest

from notifying import (
    Abandoned, ConfigInvalid, DeliveryUncertain, Outgoing, SendFailed, SlipSender, SmtpSender, WebhookSender,
    parse_smtp_url, wording,
)

PARAMS = {"ticket_no": "A-0007", "kind": "parcel", "mail_class": "express", "unit": "12-0301", "name": "张伟",
          "received_at": datetime(2026, 11, 22, 6, 20, tzinfo=UTC).isoformat(), "perishable": True}


def outgoing(channel="email", address="zhang.wei@example.com", locale="zh_Hans", key="k-0001") -> Outgoing:
    words = wording.render("mail_arrived", locale, PARAMS, code="K1P-7-0-ABCDEFGH", site_name="滨江花园")
    return Outgoing(channel=channel, address=address, subject=words.subject, text=words.text,
                    idempotency_key=key, locale=locale)


def test_wording_in_both_languages_with_the_desks_local_time():
    zh = wording.render("mail_arrived", "zh_Hans", PARAMS, code="CODE-1", site_name="滨江花园")
    assert zh.subject == "【滨江花园】您有快件待领取（A-0007）"
    assert "11-22 14:20" in zh.text and "CODE-1" in zh.text and "易腐" in zh.text
    en = wording.render("mail_reminder", "en", {**PARAMS, "mail_class": "ordinary", "perishable": False},
                        code="CODE-1", timezone="Europe/London")
    assert en.subject == "[Front desk] Reminder: your parcel is still waiting (A-0007)"
    assert "arrived 11-22 06:20" in en.text
    # A name is data: braces in it are printed, never read as a template.
    odd = wording.render("mail_arrived", "en", {**PARAMS, "name": "{code} {0}"}, code="CODE-1")
    assert odd.text.startswith("Dear {code} {0},")


def test_an_email_with_a_chinese_subject_arrives_and_reads_back(smtp_server):
    receipt = SmtpSender(smtp_server.url).send(outgoing())
    [message] = smtp_server.wait_for()
    assert message["Subject"] == "【滨江花园】您有快件待领取（A-0007）"
    assert message["To"] == "zhang.wei@example.com" and message["From"] == "desk@kiosk.test"
    assert message["X-Kiosk-Idempotency-Key"] == "k-0001"
    assert message["Message-ID"] == receipt.reference == "<k-0001@kiosk.test>"
    assert "请凭取件码 K1P-7-0-ABCDEFGH" in message.get_content()
    assert smtp_server.envelopes == [("desk@kiosk.test", ["zhang.wei@example.com"])]


def test_smtp_stops_at_the_point_of_no_return_when_told(smtp_server):
    with pytest.raises(Abandoned):
        SmtpSender(smtp_server.url).send(outgoing(), go_ahead=lambda: False)
    assert smtp_server.messages == []


def test_smtp_failures_say_whether_the_message_may_have_arrived(smtp_server):
    smtp_server.refuse_recipients.add("nobody@example.com")
    with pytest.raises(SendFailed) as error:
        SmtpSender(smtp_server.url).send(outgoing(address="nobody@example.com"))
    assert (error.value.code, error.value.temporary) == ("smtp_recipient_refused", False)
    smtp_server.hang_up_after_data = True
    with pytest.raises(DeliveryUncertain):
        SmtpSender(smtp_server.url).send(outgoing())
    assert len(smtp_server.messages) == 1


def test_smtp_server_down_is_a_temporary_failure():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SendFailed) as error:
        SmtpSender(f"smtp://127.0.0.1:{port}?timeout=1").send(outgoing())
    assert (error.value.code, error.value.temporary) == ("smtp_unavailable", True)


@pytest.mark.parametrize("url", ["http://mail.example.com", "smtp://", "smtp://h?colour=red", "smtp://h?from=desk",
                                 "smtp://h:port"])
def test_bad_smtp_urls_are_refused(url):
    with pytest.raises(ConfigInvalid):
        parse_smtp_url(url)


def test_smtp_url_options():
    config = parse_smtp_url("smtps://desk%40x.cn:p%40ss@mail.x.cn?from=desk@x.cn&timeout=3")
    assert (config.host, config.port, config.implicit_tls, config.user, config.password, config.timeout) == (
        "mail.x.cn", 465, True, "desk@x.cn", "p@ss", 3.0)


def test_the_webhook_carries_the_idempotency_key_and_the_gateway_drops_repeats(gateway):
    sender = WebhookSender(gateway.url)
    message = outgoing("sms", "13812345678")
    first = sender.send(message)
    second = sender.send(message)
    assert first.reference == second.reference == "sms-k-0001"
    assert [r["key"] for r in gateway.requests] == ["k-0001", "k-0001"]
    assert list(gateway.delivered) == ["k-0001"]
    assert gateway.delivered["k-0001"]["to"] == "13812345678"
    assert "快件" in gateway.delivered["k-0001"]["text"]


@pytest.mark.parametrize("status, temporary", [(503, True), (429, True), (400, False), (401, False)])
def test_gateway_refusals(gateway, status, temporary):
    gateway.answer_status = status
    with pytest.raises(SendFailed) as error:
        WebhookSender(gateway.url).send(outgoing("sms", "13812345678"))
    assert error.value.temporary is temporary


def test_webhook_stops_at_the_point_of_no_return_when_told(gateway):
    with pytest.raises(Abandoned):
        WebhookSender(gateway.url).send(outgoing("sms", "13812345678"), go_ahead=lambda: False)
    assert gateway.requests == []


def test_bad_webhook_urls_are_refused():
    for url in ("ftp://gw/sms", "http://", "http://gw/sms?timeout=soon"):
        with pytest.raises(ConfigInvalid):
            WebhookSender(url)


def test_a_slip_is_queued_by_the_callers_function():
    queued = []
    receipt = SlipSender(lambda message: queued.append(message) or 41).send(outgoing("slip", "12-0301"))
    assert receipt.reference == "print-job:41" and queued[0].address == "12-0301"
