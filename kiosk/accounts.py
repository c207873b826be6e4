"""Users, bearer tokens and what each role may do."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import passwords
from .errors import Conflict, Forbidden, InvalidInput, NotFound
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
    "move": frozenset({"staff", "supervisor", "admin"}),
    "report_lost": frozenset({"staff", "supervisor", "admin"}),
    "print": frozenset({"staff", "supervisor", "admin"}),
    "list_items": frozenset({"supervisor", "admin"}),
    "read_events": frozenset({"supervisor", "security", "admin"}),
    "audit": frozenset({"supervisor", "security", "admin"}),
    "alerts": frozenset({"supervisor", "security", "admin"}),
    # Keys lent out and back; the list of loans out; the borrower's phone, revealed with a trace.
    "lend_key": frozenset({"staff", "supervisor", "admin"}),
    "read_loans": frozenset({"staff", "supervisor", "security", "admin"}),
    "reveal_phone": frozenset({"staff", "supervisor", "admin"}),
    # Mail and parcels taken in, put aside as undeliverable, returned to the post office.
    "mail": frozenset({"staff", "supervisor", "admin"}),
    # The outbox: messages failed or in doubt, and settling them.
    "notifications": frozenset({"staff", "supervisor", "admin"}),
    # The complaints desk. A kiosk may file (a resident's own complaint or request), nothing more.
    "file_complaint": frozenset({KIOSK, "staff", "supervisor", "admin"}),
    "handle_complaint": frozenset({"staff", "supervisor", "admin"}),
    # Reassign a complaint, or work on one somebody else owns.
    "supervise_complaints": frozenset({"supervisor", "admin"}),
    "complaint_analysis": frozenset({"supervisor", "admin"}),
    "read_calendar": frozenset({"staff", "supervisor", "admin"}),
    "edit_calendar": frozenset({"supervisor", "admin"}),
    # Shift handovers and key counts: the desk's people count and sign; security reads the sheets.
    "handover": frozenset({"staff", "supervisor", "admin"}),
    "read_handover": frozenset({"staff", "supervisor", "security", "admin"}),
    "cancel_handover": frozenset({"supervisor", "admin"}),
    # Following up unclaimed items: staff call owners; disposal takes a second person, and
    # only a supervisor approves (kiosk/unclaimed.py checks it is another one).
    "contacts": frozenset({"staff", "supervisor", "admin"}),
    "request_disposal": frozenset({"staff", "supervisor", "admin"}),
    "approve_disposal": frozenset({"supervisor", "admin"}),
}


def may(role: str, action: str) -> bool:
    return role in PERMISSIONS[action]


def require(actor: Actor, action: str) -> None:
    """For domain operations whose rules depend on the role (the complaints desk's supervisor rights)."""
    if not may(actor.role, action):
        raise Forbidden(role=actor.role, action=action)


def check_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and passwords.verify(user.password_hash, password)


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
                password_hash=passwords.hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def device_name(device: str) -> str:
    device = device.strip()
    if not device or len(device) > 64:
        raise InvalidInput(code="invalid_name", field="device", limit=64)
    return device


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
        device = device_name(device)
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
    forget_tokens()


def authenticate(session: Session, token: str) -> Actor | None:
    """The actor a bearer token stands for, or None for an unknown, revoked or disabled one. One query."""
    row = session.execute(
        select(ApiToken.revoked_at, ApiToken.device, User.id, User.name, User.role, User.active)
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_digest == _digest(token))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.device is not None:
        return Actor(name=f"kiosk:{row.device}", role=KIOSK, device=row.device)
    if row.id is None or not row.active:
        return None
    return Actor(name=row.name, role=row.role, user_id=row.id)


class TokenCache:
    """Actors by token, remembered for ``ttl`` seconds: a busy desk or kiosk then costs the database
    one token lookup a second, not one per request.

    So a revoked token, or a disabled user's, keeps working for at most ``ttl`` seconds; a token
    revoked with ``revoke_token`` stops at once in the process that revoked it (it empties every
    cache of its process).
    Only tokens that worked are remembered: a wrong one is looked up (and counted) every time."""

    def __init__(self, ttl: float = 1.0, clock: Callable[[], float] = time.monotonic, size: int = 4096):
        self.ttl, self.clock, self.size = ttl, clock, size
        self._actors: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()
        _CACHES.add(self)

    def authenticate(self, session: Session, token: str) -> Actor | None:
        key, now = _digest(token), self.clock()
        cached = self._actors.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        actor = authenticate(session, token)
        with self._lock:
            if actor is None:
                self._actors.pop(key, None)
            else:
                if len(self._actors) >= self.size:
                    self._actors.clear()
                self._actors[key] = (now + self.ttl, actor)
        return actor

    def clear(self) -> None:
        with self._lock:
            self._actors.clear()


_CACHES: weakref.WeakSet[TokenCache] = weakref.WeakSet()


def forget_tokens() -> None:
    """Empty every token cache of this process: a token revoked or a user disabled here stops now."""
    for cache in list(_CACHES):
        cache.clear()


def sign_in(session: Session, name: str, password: str) -> User | None:
    """The active user with this name and password, or None; an old-format hash is rewritten."""
    user = session.scalar(select(User).where(User.name == name.strip()))
    if user is None or not user.password_hash or not user.active:
        passwords.verify_nothing(password)
        return None
    if not passwords.verify(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.flush()
    return user
