"""Recently verified passwords, so a GIS client sending HTTP Basic on every tile does not pay
argon2 (≈0.3 s of CPU) per request.

Entries are keyed by HMAC-SHA256 of (e-mail, password) under a random key made per process:
neither is kept, and the keys are useless outside the process. An entry lives ``ttl`` seconds
(``DEMINE_BASIC_AUTH_CACHE_S``, 60 by default) and remembers the password hash it was checked
against; a hit counts only while the user is active and that hash unchanged (checked against
the store on every request), so a changed password or a deactivated user ends it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class Verified:
    """A password that verified: for whom, against which hash, until when (monotonic)."""

    user_id: int
    password_hash: str
    until: float


class VerifiedPasswords:
    """A bounded, thread-safe map (e-mail, password) → Verified, per server process."""

    def __init__(self, ttl_s: float, max_entries: int = 4096):
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def _digest(self, email: str, password: str) -> bytes:
        message = email.encode() + b"\0" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def get(self, email: str, password: str) -> Verified | None:
        """The unexpired entry of these credentials, if any."""
        if self.ttl_s <= 0:
            return None
        digest = self._digest(email, password)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry.until <= time.monotonic():
                del self._entries[digest]
                return None
            return entry

    def put(self, email: str, password: str, *, user_id: int, password_hash: str) -> None:
        """Remember that these credentials verified against ``password_hash``."""
        if self.ttl_s <= 0:
            return
        entry = Verified(user_id, password_hash, time.monotonic() + self.ttl_s)
        digest = self._digest(email, password)
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, email: str, password: str) -> None:
        """Drop the entry of these credentials (it no longer holds)."""
        with self._lock:
            self._entries.pop(self._digest(email, password), None)
