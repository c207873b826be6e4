"""Password hashes that say how they were made.

A stored hash reads ``scrypt$n=32768,r=8,p=1$<salt hex>$<digest hex>``: the cost
travels with the hash, so the cost can be raised later and every old hash still
verifies (and is rewritten at the next sign-in, see ``needs_rehash``). Hashes
written before the parameters were recorded (``scrypt$<salt>$<digest>``) were
made with n=2**14, r=8, p=1.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Cost:
    n: int
    r: int
    p: int

    def __str__(self) -> str:
        return f"n={self.n},r={self.r},p={self.p}"


CURRENT = Cost(n=2**15, r=8, p=1)
LEGACY = Cost(n=2**14, r=8, p=1)
# A hash is read from our own database, but a corrupt or planted row must not
# make one sign-in allocate gigabytes.
LIMIT = Cost(n=2**20, r=32, p=16)


class UnreadableHash(ValueError):
    pass


def _scrypt(password: str, salt: bytes, cost: Cost) -> bytes:
    memory = 128 * cost.r * (cost.n + cost.p + 2)
    return hashlib.scrypt(password.encode(), salt=salt, n=cost.n, r=cost.r, p=cost.p,
                          maxmem=memory + 1024 * 1024, dklen=64)


def hash_password(password: str, cost: Cost = CURRENT) -> str:
    salt = os.urandom(16)
    return f"scrypt${cost}${salt.hex()}${_scrypt(password, salt, cost).hex()}"


def _parse(stored: str) -> tuple[Cost, bytes, str]:
    parts = stored.split("$")
    if len(parts) == 3 and parts[0] == "scrypt":
        return LEGACY, bytes.fromhex(parts[1]), parts[2]
    if len(parts) != 4 or parts[0] != "scrypt":
        raise UnreadableHash("not an scrypt hash")
    try:
        fields = dict(item.split("=", 1) for item in parts[1].split(","))
        cost = Cost(n=int(fields["n"]), r=int(fields["r"]), p=int(fields["p"]))
        salt = bytes.fromhex(parts[2])
    except (KeyError, ValueError):
        raise UnreadableHash("unreadable scrypt parameters") from None
    if not (1 < cost.n <= LIMIT.n and cost.n & (cost.n - 1) == 0 and 0 < cost.r <= LIMIT.r
            and 0 < cost.p <= LIMIT.p):
        raise UnreadableHash("scrypt parameters out of range")
    return cost, salt, parts[3]


def verify(stored: str, password: str) -> bool:
    try:
        cost, salt, digest = _parse(stored)
    except (UnreadableHash, ValueError):
        return False
    return hmac.compare_digest(_scrypt(password, salt, cost).hex(), digest)


def needs_rehash(stored: str) -> bool:
    try:
        cost, _, _ = _parse(stored)
    except (UnreadableHash, ValueError):
        return True
    return cost != CURRENT


@cache
def _decoy() -> str:
    return hash_password("decoy")


def verify_nothing(password: str) -> bool:
    """Spend what a real check costs, so that an unknown name takes as long as a wrong password."""
    verify(_decoy(), password)
    return False
