"""Sign-in by password (JSON sign-in and HTTP Basic), and its throttling.

Known and unknown accounts cost the same: one argon2 verify each (against a dummy hash when
there is no usable one), the same queries, the same failure record, the same message.

Throttling slows an attacker down without locking the account's owner out. Failures are
counted per (account, address) pair, per address and per account over the last hour. A pair
past ``DEMINE_SIGNIN_PAIR_FAILURES`` (5) or an address past ``DEMINE_SIGNIN_ADDRESS_FAILURES``
(10) waits ``DEMINE_SIGNIN_BACKOFF_S`` (30 s) after its last failure, doubled for each further
failure, up to 15 minutes; the right password from another address still signs in. Only an
account past ``DEMINE_SIGNIN_ACCOUNT_CEILING`` (100) failures from all addresses refuses
everyone. A refused attempt is not verified and does not count.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta
from functools import cache

from sqlalchemy import delete, func, insert, select

from demine.domain.actors import Actor
from demine.domain.errors import Throttled, Unauthenticated
from demine.services.access import accounts
from demine.services.access.password_cache import VerifiedPasswords
from demine.storage.database import Database, UnitOfWork
from demine.storage.tables import login_failures, users

WINDOW = timedelta(hours=1)
MAX_WAIT = timedelta(minutes=15)
WRONG = "wrong e-mail or password"
TOO_MANY = "too many failed sign-ins; try again later"


@cache
def _dummy_hash() -> str:
    """An argon2 hash of a random password: what unknown accounts are verified against."""
    return accounts.password_hasher.hash(secrets.token_urlsafe(24))


def _normal(email: str | None) -> str:
    return (email or "").strip().lower()


def _keys(email: str, address: str) -> dict[str, str]:
    pair = hashlib.sha256(f"{email}\n{address}".encode()).hexdigest()  # fits key's 300 chars
    return {"pair": f"pair:{pair}", "address": f"address:{address}",
            "account": f"account:{email}"}


def _failures(uow: UnitOfWork, key: str):
    """(count, first, last) of the key's failures in the window."""
    return uow.conn.execute(
        select(func.count(), func.min(login_failures.c.at), func.max(login_failures.c.at))
        .where(login_failures.c.key == key, login_failures.c.at >= uow.now - WINDOW)).one()


def _backoff(uow: UnitOfWork, count: int, last, free: int) -> float:
    """Seconds still to wait: none below ``free`` failures, then doubling from the last."""
    if count < free:
        return 0.0
    wait = min(uow.settings.signin_backoff_s * 2 ** min(count - free, 30),
               MAX_WAIT.total_seconds())
    return (last - uow.now).total_seconds() + wait


def check_throttle(uow: UnitOfWork, *, email: str, address: str) -> int:
    """Raise Throttled while this account/address must wait; else the pair's failure count."""
    settings, keys = uow.settings, _keys(_normal(email), address)
    pair, by_address, account = (_failures(uow, keys[k]) for k in ("pair", "address", "account"))
    waits = [_backoff(uow, pair[0], pair[2], settings.signin_pair_failures),
             _backoff(uow, by_address[0], by_address[2], settings.signin_address_failures)]
    if account[0] >= settings.signin_account_ceiling:
        waits.append((account[1] + WINDOW - uow.now).total_seconds())
    wait = max(waits)
    if wait > 0:
        raise Throttled(TOO_MANY, retry_after=max(1, math.ceil(wait)))
    return pair[0]


def record_failure(uow: UnitOfWork, *, email: str, address: str) -> None:
    """Count a failed sign-in of the account from the address; forget failures past the window."""
    keys = list(_keys(_normal(email), address).values())
    uow.conn.execute(delete(login_failures).where(
        login_failures.c.key.in_(keys), login_failures.c.at < uow.now - WINDOW))
    uow.conn.execute(insert(login_failures), [{"key": key, "at": uow.now} for key in keys])


def _verify(database: Database, email: str, password: str, address: str) -> tuple[int, str]:
    """(user id, password hash) when the password is right; throttled; failures recorded."""
    with database.read() as uow:
        pair_failures = check_throttle(uow, email=email, address=address)
        row = uow.conn.execute(select(users.c.id, users.c.active, users.c.password_hash).where(
            users.c.email == email)).first()
    stored = row.password_hash if row is not None and row.active else None
    # The verify runs outside any transaction (≈0.3 s), whether the account exists or not.
    valid = accounts.password_hasher.verify(password or "", stored or _dummy_hash())
    if not (valid and stored):
        # A failure is recorded in its own committed transaction.
        with database.transaction() as uow:
            record_failure(uow, email=email, address=address)
        raise Unauthenticated(WRONG)
    if pair_failures:
        with database.transaction() as uow:
            uow.conn.execute(delete(login_failures).where(
                login_failures.c.key == _keys(email, address)["pair"]))
    return row.id, stored


def sign_in(database: Database, *, email: str, password: str, address: str) -> Actor:
    """The actor of an e-mail and password, throttled per account, address and both."""
    user_id, _ = _verify(database, _normal(email), password, address)
    with database.read() as uow:
        return accounts.actor_of(uow, user_id)


def _still_valid(database: Database, user_id: int, password_hash: str) -> Actor | None:
    with database.read() as uow:
        row = uow.conn.execute(select(users.c.active, users.c.password_hash).where(
            users.c.id == user_id)).first()
        if row is None or not row.active or row.password_hash != password_hash:
            return None
        return accounts.actor_of(uow, user_id)


def basic_actor(database: Database, *, user: str, password: str, address: str,
                verified: VerifiedPasswords | None = None) -> Actor:
    """The actor of HTTP Basic credentials: an API token as the password (any user name), or
    e-mail and password (throttled like sign-in; recently verified ones skip argon2)."""
    if password.startswith("dm_"):
        with database.read() as uow:
            actor = accounts.actor_for_token(uow, password)
        if actor is not None:
            return actor
    email = _normal(user)
    hit = verified.get(email, password) if verified is not None else None
    if hit is not None:
        actor = _still_valid(database, hit.user_id, hit.password_hash)
        if actor is not None:
            return actor
        verified.forget(email, password)
    user_id, stored = _verify(database, email, password, address)
    if verified is not None:
        verified.put(email, password, user_id=user_id, password_hash=stored)
    with database.read() as uow:
        return accounts.actor_of(uow, user_id)
