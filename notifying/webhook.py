"""Text messages through an SMS gateway's webhook.

``KIOSK_SMS_WEBHOOK_URL``: ``http(s)://gateway/path[?timeout=10]``. Each message
is one POST of JSON ``{"to", "text", "idempotency_key"}`` with the key also in
the ``Idempotency-Key`` header; the gateway must answer a repeated key with the
first answer and not send again. That makes this sender resend-safe: a message
in doubt is simply sent again under its key.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from notifying.errors import Abandoned, ConfigInvalid, DeliveryUncertain, SendFailed
from notifying.message import Outgoing, Receipt, always

# Answers that say "not now" rather than "never".
TEMPORARY_STATUSES = frozenset({408, 425, 429})


class WebhookSender:
    channel = "sms"
    resend_safe = True

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigInvalid(f"{url!r} is not an http(s):// URL")
        query = parse_qs(parts.query)
        try:
            self.timeout = float(query.pop("timeout", ["10"])[-1])
        except ValueError:
            raise ConfigInvalid(f"{url!r}: timeout is not a number") from None
        self.url = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        # No proxies from the environment: the gateway is addressed exactly as configured.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, message: Outgoing, go_ahead: Callable[[], bool] = always) -> Receipt:
        body = json.dumps({"to": message.address, "text": message.text,
                           "idempotency_key": message.idempotency_key}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.idempotency_key})
        if not go_ahead():
            raise Abandoned("the message is no longer this worker's to send")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            error.close()
            temporary = error.code in TEMPORARY_STATUSES or error.code >= 500
            raise SendFailed(f"gateway answered {error.code}", code="sms_gateway_refused",
                             temporary=temporary) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, ConnectionRefusedError):
                raise SendFailed(f"{self.url}: {error.reason}", code="sms_gateway_unavailable") from None
            raise DeliveryUncertain(f"{self.url}: {error.reason}", code="sms_gateway_no_answer") from None
        except OSError as error:
            raise DeliveryUncertain(f"{self.url}: {error}", code="sms_gateway_no_answer") from None
        return Receipt(reference=_reference(answer))


def _reference(answer: bytes) -> str | None:
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return str(value)[:128] if value is not None else None
