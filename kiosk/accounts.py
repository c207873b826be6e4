"""Users, bearer tokens and what each role may do."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import Conflict, InvalidInput, NotFound
from .models import ApiToken, User
from .values import Actor

ROLES = ("staff", "supervisor", "security", "admin")
KIOSK = "kiosk"

# One table to read for who may do what. A kiosk device only scans: it stands in
# the lobby where anyone can reach it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "scan": frozenset({KIOSK, "staff", "supervisor", "admin"}),
    "deposit": frozenset({"staff", "supervisor", "admin"}),
    "release": frozenset({"staff", "supervisor", "admin"}),
    "read_item": frozenset({"staff", "supervisor", "security", "admin"}),
    "find_item": frozenset({"staff", "supervisor", "security", "admin"}),
    # A full phone number, on request and audited; security sees masked ones only.
    "reveal_contact": frozenset({"staff", "supervisor", "admin"}),
    "move": frozenset({"staff", "supervisor", "admin"}),
    "report_lost": frozenset({"staff", "supervisor", "admin"}),
    "print": frozenset({"staff", "supervisor", "admin"}),
    "list_items": frozenset({"supervisor", "admin"}),
    "read_events": frozenset({"supervisor", "security", "admin"}),
    "audit": frozenset({"supervisor", "security", "admin"}),
    "alerts": frozenset({"supervisor", "security", "admin"}),
}


def may(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]



def _hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    _, salt, digest = user.password_hash.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(candidate.hex(), digest)


def add_user(session: Session, name: str, role: str, password: str | None = None,
             now: datetime | None = None) -> User:
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidInput(code="invalid_name", field="name", limit=64)
    if role not in ROLES:
        raise InvalidInput(code="invalid_role", field="role", choices=ROLES)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise Conflict(code="user_exists", field="name", name=name)
    user = User(name=name, role=role, active=True, created_at=now or datetime.now(UTC),
                password_hash=_hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user_name: str | None = None, device: str | None = None,
                 now: datetime | None = None) -> str:
    """Make a bearer token for a user or a kiosk device; only its digest is stored."""
    if (user_name is None) == (device is None):
        raise InvalidInput(code="token_owner_required")
    user_id = None
    if user_name is not None:
        user = session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFound(code="unknown_user", name=user_name)
        user_id = user.id
    else:
        device = device.strip()
        if not device or len(device) > 64:
            raise InvalidInput(code="invalid_name", field="device", limit=64)
    token = ("kd_" if device else "ku_") + secrets.token_urlsafe(32)
    session.add(ApiToken(token_digest=_digest(token), user_id=user_id, device=device,
                         created_at=now or datetime.now(UTC)))
    session.flush()
    return token


def revoke_token(session: Session, token: str, now: datetime | None = None) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_digest == _digest(token)))
    if row is None:
        raise NotFound(code="unknown_token")
    row.revoked_at = now or datetime.now(UTC)


def authenticate(session: Session, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None for an unknown, revoked or disabled one."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_digest == _digest(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.device is not None:
        return Actor(name=f"kiosk:{row.device}", role=KIOSK, device=row.device)
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return Actor(name=user.name, role=user.role, user_id=user.id)
