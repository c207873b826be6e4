"""Email through an SMTP server.

``KIOSK_SMTP_URL``: ``smtp://[user:password@]host[:port][?from=desk@example.com&starttls=1&timeout=10]``,
or ``smtps://`` for TLS from the first byte (port 465). SMTP has no idempotency
key a server honours, so this sender is not resend-safe: the point of no return
is the DATA command (the envelope has been accepted); a connection lost after
it puts the message in doubt. The Message-ID carries the idempotency key, so
staff reviewing a message in doubt can find it in the mail server's log.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from notifying.errors import Abandoned, ConfigInvalid, DeliveryUncertain, SendFailed
from notifying.message import Outgoing, Receipt, always

DEFAULT_FROM = "front-desk@localhost"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    user: str | None
    password: str | None
    sender: str
    timeout: float


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigInvalid(f"{url!r} is not smtp://host[:port] or smtps://host[:port]")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"from", "starttls", "timeout"}
    if unknown:
        raise ConfigInvalid(f"unknown SMTP URL option(s): {', '.join(sorted(unknown))}")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
        timeout = float(query.get("timeout", "10"))
    except ValueError as error:
        raise ConfigInvalid(f"{url!r}: {error}") from None
    sender = query.get("from", DEFAULT_FROM)
    if "@" not in sender:
        raise ConfigInvalid(f"from={sender!r} is not an email address")
    return SmtpConfig(
        host=parts.hostname, port=port, implicit_tls=parts.scheme == "smtps",
        starttls=query.get("starttls", "0").lower() in ("1", "true", "yes"),
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None, sender=sender, timeout=timeout,
    )


def build_email(message: Outgoing, sender: str) -> EmailMessage:
    """The email as sent: subject and body in UTF-8, encoded so any server carries them."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = f"<{message.idempotency_key}@{sender.rpartition('@')[2]}>"
    email["X-Kiosk-Idempotency-Key"] = message.idempotency_key
    email.set_content(message.text, charset="utf-8", cte="quoted-printable")
    return email


class SmtpSender:
    channel = "email"
    resend_safe = False

    def __init__(self, url: str) -> None:
        self.config = parse_smtp_url(url)

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        if config.implicit_tls:
            connection = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        connection.ehlo()
        if config.starttls:
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        if config.user:
            connection.login(config.user, config.password or "")
        return connection

    def send(self, message: Outgoing, go_ahead: Callable[[], bool] = always) -> Receipt:
        email = build_email(message, self.config.sender)
        data = email.as_bytes(policy=SMTP_POLICY)
        try:
            connection = self._connect()
        except smtplib.SMTPAuthenticationError as error:
            raise SendFailed(f"login refused: {error.smtp_code}", code="smtp_login_refused", temporary=False) from None
        except (OSError, smtplib.SMTPException) as error:
            raise SendFailed(f"{self.config.host}:{self.config.port}: {error}", code="smtp_unavailable") from None
        try:
            self._envelope(connection, message)
            if not go_ahead():
                raise Abandoned("the message is no longer this worker's to send")
            # The point of no return: from here a lost connection may still have delivered it.
            try:
                connection.data(data)
            except smtplib.SMTPDataError as error:
                # The server answered, and it said no: nothing was delivered.
                raise SendFailed(f"message refused: {error.smtp_code} {_text(error.smtp_error)}",
                                 code="smtp_refused", temporary=400 <= error.smtp_code < 500) from None
            except (OSError, smtplib.SMTPException) as error:
                raise DeliveryUncertain(f"connection lost after the message was sent: {error}",
                                        code="smtp_no_answer") from None
        finally:
            _close(connection)
        return Receipt(reference=email["Message-ID"])

    def _envelope(self, connection: smtplib.SMTP, message: Outgoing) -> None:
        try:
            code, reply = connection.mail(self.config.sender)
            if code != 250:
                raise SendFailed(f"sender refused: {code} {_text(reply)}", code="smtp_refused",
                                 temporary=400 <= code < 500)
            code, reply = connection.rcpt(message.address)
            if code not in (250, 251):
                raise SendFailed(f"recipient refused: {code} {_text(reply)}", code="smtp_recipient_refused",
                                 temporary=400 <= code < 500)
        except (OSError, smtplib.SMTPException) as error:
            # Before DATA nothing can have been delivered.
            raise SendFailed(f"{self.config.host}:{self.config.port}: {error}", code="smtp_unavailable") from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()
