"""Keys derived from the one site secret, one per purpose.

The same secret never signs two kinds of thing: claim codes, the audit chain and
browser sessions each get a key of their own, derived here, so a key that leaks
from one use does not forge another.
"""
from __future__ import annotations

import hashlib
import hmac


def derive_key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"kiosk {purpose}".encode(), hashlib.sha256).digest()
