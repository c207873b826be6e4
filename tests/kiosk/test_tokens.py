"""Bearer tokens through the token cache: remembered for a moment, never past a revocation by more."""
from datetime import UTC, datetime

from sqlalchemy import select, update

from kiosk import accounts
from kiosk.models import ApiToken, User


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_token_revoked_elsewhere_stops_working_within_the_cache_time(sessions, tokens):
    clock = Clock()
    cache = accounts.TokenCache(ttl=1.0, clock=clock)
    with sessions() as session:
        assert cache.authenticate(session, tokens["staff"]).role == "staff"
        # Another app server revokes it: this process's cache does not hear of it.
        session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC))
                        .where(ApiToken.user_id == select(User.id).where(User.name == "staff-1").scalar_subquery()))
        session.commit()
        clock.now += 0.5
        assert cache.authenticate(session, tokens["staff"]) is not None
        clock.now += 0.6
        assert cache.authenticate(session, tokens["staff"]) is None


def test_a_token_revoked_here_stops_at_once(sessions, tokens):
    cache = accounts.TokenCache(ttl=60.0, clock=Clock())
    with sessions() as session:
        assert cache.authenticate(session, tokens["kiosk"]).role == accounts.KIOSK
        accounts.revoke_token(session, tokens["kiosk"])
        session.commit()
        assert cache.authenticate(session, tokens["kiosk"]) is None


def test_a_disabled_user_and_a_wrong_token_are_refused_in_one_query(sessions, tokens):
    cache = accounts.TokenCache(ttl=60.0, clock=Clock())
    with sessions() as session:
        session.execute(update(User).values(active=False).where(User.name == "admin-1"))
        session.commit()
        assert cache.authenticate(session, tokens["admin"]) is None
        assert cache.authenticate(session, "ku_nope") is None
        assert cache.authenticate(session, tokens["supervisor"]).name == "supervisor-1"
