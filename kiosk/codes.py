"""Claim codes: the QR payloads on the item tag, the owner's stub and the mail notice.

A code is ``K1{role}-{item id}-{generation}-{mac}``:

- role ``T`` tag (stays on the item), ``S`` stub (the owner's only proof),
  ``P`` pickup (the notice slip for parcels and mail);
- item id and generation in base 36;
- mac: HMAC-SHA256 under the site's secret key over the other fields,
  truncated to 100 bits, in Crockford base 32.

Nothing about a code is stored: the server recomputes the mac, so a copy of the
database does not yield working stubs, the tag and stub of one item cannot be
derived from each other or from the ticket number, and bumping the item's
claim generation revokes a stub without a list of revoked codes. Every
character is in the QR alphanumeric set, so a code (about 30 characters) fits a
version 2 symbol at error correction level M.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from .errors import CodeTooLong, MalformedCode

TAG, STUB, PICKUP = "T", "S", "P"
ROLES = {TAG: "tag", STUB: "stub", PICKUP: "pickup"}

MAX_SCAN_LENGTH = 256
MAC_CHARS = 20  # 20 x 5 bits = 100 bits
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")

_PATTERN = re.compile(
    r"K1(?P<role>[TSP])-(?P<item>[0-9A-Z]{1,13})-(?P<gen>[0-9A-Z]{1,4})-(?P<mac>["
    + CROCKFORD
    + r"]{%d})" % MAC_CHARS
)


@dataclass(frozen=True)
class ClaimCode:
    role: str
    item_id: int
    generation: int
    mac: str

    @property
    def role_name(self) -> str:
        return ROLES[self.role]


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def _mac(key: bytes, role: str, item_id: int, generation: int) -> str:
    message = f"K1|{role}|{item_id}|{generation}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    bits = int.from_bytes(digest[:13], "big") >> (13 * 8 - MAC_CHARS * 5)
    return "".join(CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(MAC_CHARS)))


def make(key: bytes, role: str, item_id: int, generation: int = 0) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown code role {role!r}")
    mac = _mac(key, role, item_id, generation)
    return f"K1{role}-{_base36(item_id)}-{_base36(generation)}-{mac}"


def normalise(text: str) -> str:
    """What a scanner may add or change: surrounding blanks, a lowercasing keyboard wedge."""
    return text.strip().upper()


def parse(text: str) -> ClaimCode:
    """Read a scanned text as a claim code, without checking the mac."""
    if len(text) > MAX_SCAN_LENGTH:
        raise CodeTooLong(limit=MAX_SCAN_LENGTH)
    match = _PATTERN.fullmatch(normalise(text))
    if match is None:
        raise MalformedCode()
    return ClaimCode(
        role=match["role"],
        item_id=int(match["item"], 36),
        generation=int(match["gen"], 36),
        mac=match["mac"],
    )


def authentic(key: bytes, code: ClaimCode) -> bool:
    expected = _mac(key, code.role, code.item_id, code.generation)
    return hmac.compare_digest(expected, code.mac)
