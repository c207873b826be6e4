"""Masking personal data for labels and screens (DOMAIN: show no more than needed)."""
from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    """``13812345678`` -> ``138****5678``; short numbers keep only their last two digits."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) >= 8:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(0, len(digits) - 2) + digits[-2:]


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def mask_name(name: str | None) -> str:
    """``张三`` -> ``张*``; ``Alice Wong`` -> ``A**** W***``."""
    if not name:
        return ""
    name = name.strip()
    if any(_is_cjk(ch) for ch in name):
        return name[0] + "*" * max(1, len(name) - 1)
    words = name.split()
    return " ".join(w[0] + "*" * max(1, len(w) - 1) for w in words)


def mask_email(email: str | None) -> str:
    """``zhang.wei@example.com`` -> ``z*******@example.com``: enough to recognise, not to write to."""
    if not email or "@" not in email:
        return ""
    local, _, domain = email.rpartition("@")
    return local[:1] + "*" * max(1, len(local) - 1) + "@" + domain
