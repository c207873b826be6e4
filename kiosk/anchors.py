"""Anchors: the sealed audit chain's head, written down outside the database.

One line per anchor in an append-only file (``instance/audit-anchors.log``): when,
why, the seal position and its hash, and an HMAC under the audit key, so a line
cannot be forged or edited without the site secret. Whoever cuts rows off the end
of the trail, moves the chain back or recomputes it cannot make the database agree
with an anchor taken before: ``kiosk.audit.verify`` compares them.

Anchors are taken at least daily (by the sealer), at every signed handover (the
sealer anchors as soon as it has sealed the ``handover_signed`` row; the sheet prints
the anchor that covers it, ``covering``) and by hand (`kiosk audit anchor`). Keep a copy of the file off
the machine, or print it: it is only as far out of reach as where it is kept.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .models import AuditSeal

FILE_NAME = "audit-anchors.log"


@dataclass(frozen=True)
class Anchor:
    at: datetime
    reason: str
    position: int
    hash: str
    line: int = 0
    authentic: bool = True

    @property
    def short(self) -> str:
        """What a handover sheet prints: the position and the first 16 hex digits."""
        return f"{self.position}:{self.hash[:16]}"


def _mac(key: bytes, record: dict) -> str:
    return hmac.new(key, audit.canonical(record).encode(), hashlib.sha256).hexdigest()


def anchor(session: Session, key: bytes, path: str | os.PathLike, reason: str,
           now: datetime | None = None) -> Anchor:
    """Append the sealed chain's head to the anchor file at ``path`` and return it.

    Rows not sealed yet (the last ~100 ms) are not covered; the next anchor covers them."""
    position, digest = audit.head(session)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    reason = " ".join(str(reason).split())[:64] or "manual"
    record = {"at": at.isoformat(timespec="seconds"), "reason": reason, "position": position, "hash": digest}
    line = audit.canonical({**record, "mac": _mac(key, record)}) + "\n"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Anchor(at=at.replace(microsecond=0), reason=reason, position=position, hash=digest)


def _parse(key: bytes, number: int, line: str) -> Anchor:
    try:
        data = json.loads(line)
        mac = data.pop("mac")
        record = {"at": data["at"], "reason": data["reason"], "position": int(data["position"]),
                  "hash": data["hash"]}
        authentic = set(data) == set(record) and hmac.compare_digest(_mac(key, record), mac)
        return Anchor(at=datetime.fromisoformat(record["at"]), reason=record["reason"],
                      position=record["position"], hash=record["hash"], line=number, authentic=authentic)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Anchor(at=datetime.min.replace(tzinfo=UTC), reason="unreadable", position=-1, hash="", line=number,
                      authentic=False)


def read(path: str | os.PathLike, key: bytes) -> list[Anchor]:
    """Every anchor in the file, each marked whether its MAC holds; none if there is no file yet."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [_parse(key, number, line) for number, line in enumerate(lines, start=1) if line.strip()]


def last_taken(path: str | os.PathLike, key: bytes) -> Anchor | None:
    authentic = [a for a in read(path, key) if a.authentic]
    return authentic[-1] if authentic else None


def covering(session: Session, path: str | os.PathLike, key: bytes, seq: int) -> Anchor | None:
    """The first authentic anchor taken after audit row ``seq`` was sealed (what a handover
    sheet prints); None while the row is not sealed or not anchored yet."""
    position = session.scalar(select(AuditSeal.position).where(AuditSeal.event_seq == seq))
    if position is None:
        return None
    return next((a for a in read(path, key) if a.authentic and a.position >= position), None)
