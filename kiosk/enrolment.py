"""Binding a lobby browser to a kiosk device with a one-time link.

An administrator makes a link for a device; the first browser that opens it
gets a device token (kept as an HttpOnly cookie by the web layer) and the link
is spent. Withdrawing a device revokes every token it has and every link not
yet used.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import accounts
from .models import ApiToken, KioskEnrolment

LINK_LIFETIME = timedelta(hours=24)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invite(session: Session, device: str, *, now: datetime | None = None,
           lifetime: timedelta = LINK_LIFETIME) -> str:
    """A one-time secret for the enrolment link of ``device``; only its digest is stored."""
    now = now or datetime.now(UTC)
    secret = "ke_" + secrets.token_urlsafe(32)
    session.add(KioskEnrolment(device=accounts.device_name(device), link_digest=_digest(secret),
                               created_at=now, expires_at=now + lifetime))
    session.flush()
    return secret


def _open(secret: str, now: datetime):
    return (KioskEnrolment.link_digest == _digest(secret), KioskEnrolment.used_at.is_(None),
            KioskEnrolment.revoked_at.is_(None), KioskEnrolment.expires_at > now)


def pending(session: Session, secret: str, now: datetime | None = None) -> KioskEnrolment | None:
    """The enrolment this secret opens, if it is still unused, unrevoked and unexpired."""
    return session.scalar(select(KioskEnrolment).where(*_open(secret, now or datetime.now(UTC))))


def redeem(session: Session, secret: str, now: datetime | None = None) -> tuple[str, str] | None:
    """Spend the link: (device, new device token), or None if it was used, revoked or expired.

    One conditional UPDATE decides: two browsers opening the same link at once
    get one token between them.
    """
    now = now or datetime.now(UTC)
    device = session.scalar(
        update(KioskEnrolment).where(*_open(secret, now)).values(used_at=now)
        .returning(KioskEnrolment.device).execution_options(synchronize_session=False))
    if device is None:
        return None
    return device, accounts.create_token(session, device=device, now=now)


def withdraw(session: Session, device: str, now: datetime | None = None) -> int:
    """Revoke every token of ``device`` (enrolled browsers and bearer tokens) and its unused links.

    Returns how many tokens were revoked.
    """
    now = now or datetime.now(UTC)
    device = accounts.device_name(device)
    revoked = session.execute(
        update(ApiToken).where(ApiToken.device == device, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    session.execute(
        update(KioskEnrolment).where(KioskEnrolment.device == device, KioskEnrolment.used_at.is_(None),
                                     KioskEnrolment.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False))
    return revoked
