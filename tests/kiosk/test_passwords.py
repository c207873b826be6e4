import hashlib
import os

from kiosk import accounts, passwords
from kiosk.models import User


def legacy_hash(password: str) -> str:
    """What kiosk/accounts.py wrote before hashes carried their cost."""
    salt = os.urandom(16)
    return f"scrypt${salt.hex()}${hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1).hex()}"


def test_a_hash_carries_its_cost_and_verifies():
    stored = passwords.hash_password("correct horse")
    scheme, cost, salt, digest = stored.split("$")
    assert (scheme, cost) == ("scrypt", "n=32768,r=8,p=1")
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 64
    assert passwords.verify(stored, "correct horse")
    assert not passwords.verify(stored, "correct horse ")
    assert not passwords.needs_rehash(stored)
    assert passwords.hash_password("correct horse") != stored  # salted


def test_a_hash_made_at_another_cost_still_verifies():
    cheap = passwords.hash_password("pw", passwords.Cost(n=2**10, r=4, p=2))
    assert cheap.split("$")[1] == "n=1024,r=4,p=2"
    assert passwords.verify(cheap, "pw") and passwords.needs_rehash(cheap)


def test_old_hashes_without_their_cost_still_verify():
    old = legacy_hash("s3cret")
    assert passwords.verify(old, "s3cret") and not passwords.verify(old, "other")
    assert passwords.needs_rehash(old)


def test_unreadable_or_extravagant_hashes_never_verify():
    digest = "00" * 64
    for stored in ("", "bcrypt$x$y", "scrypt$n=abc,r=8,p=1$00$" + digest, "scrypt$n=1000,r=8,p=1$00$" + digest,
                   "scrypt$n=4194304,r=8,p=1$00$" + digest, "scrypt$r=8,p=1$00$" + digest, "scrypt$zz$" + digest):
        assert not passwords.verify(stored, "x"), stored
        assert passwords.needs_rehash(stored)


def test_sign_in_rewrites_an_old_hash_and_refuses_the_wrong_and_the_disabled(session):
    user = accounts.add_user(session, "lin", "staff")
    user.password_hash = legacy_hash("lin-pw")
    session.flush()
    assert accounts.sign_in(session, "lin", "wrong") is None
    assert session.get(User, user.id).password_hash.count("$") == 2  # untouched by a failed attempt
    assert accounts.sign_in(session, " lin ", "lin-pw") is user
    assert user.password_hash.startswith("scrypt$n=32768,r=8,p=1$")
    assert accounts.sign_in(session, "lin", "lin-pw") is user
    assert accounts.sign_in(session, "nobody", "lin-pw") is None
    user.active = False
    assert accounts.sign_in(session, "lin", "lin-pw") is None
    assert accounts.sign_in(session, "nopassword", "") is None
