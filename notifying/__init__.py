"""Owner notifications: the words, and the senders that deliver them.

No database, no Flask (like printing/): this package takes a worded
``Outgoing`` and a sender; the outbox (kiosk.outbox) and the worker
(web.notify_worker) decide what to send and record what happened.

Public API
----------
Values
    Outgoing(channel, address, subject, text, idempotency_key, locale="zh_Hans")
    Receipt(reference=None)
    Sender                                protocol: channel, resend_safe, send(message, go_ahead)

Senders (each calls ``go_ahead()`` at its point of no return)
    SmtpSender(url)        email; KIOSK_SMTP_URL smtp://[user:pw@]host[:port][?from=&starttls=1&timeout=]
                           or smtps://; not resend-safe: a lost answer puts a message in doubt
    WebhookSender(url)     SMS gateway; KIOSK_SMS_WEBHOOK_URL http(s)://...; JSON POST with an
                           Idempotency-Key header; resend-safe
    SlipSender(queue)      the printed pickup notice, queued by ``queue`` in the caller's transaction

Words
    wording.render(template, locale, params, code=, site_name=, timezone=) -> Wording(subject, text)
    templates: mail_arrived, mail_reminder, mail_notice_slip; locales zh_Hans, en

Errors (notifying.errors; each has a stable ``code``)
    NotifyError, ConfigInvalid, SendFailed(temporary=), DeliveryUncertain, Abandoned
"""

from notifying.errors import Abandoned, ConfigInvalid, DeliveryUncertain, NotifyError, SendFailed
from notifying.message import Outgoing, Receipt, Sender
from notifying.slip import SlipSender
from notifying.smtp import SmtpSender, build_email, parse_smtp_url
from notifying.webhook import WebhookSender

__all__ = [
    "Abandoned",
    "ConfigInvalid",
    "DeliveryUncertain",
    "NotifyError",
    "Outgoing",
    "Receipt",
    "SendFailed",
    "Sender",
    "SlipSender",
    "SmtpSender",
    "WebhookSender",
    "build_email",
    "parse_smtp_url",
]
