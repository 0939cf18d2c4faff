"""Librarians' passwords and session cookies.

Passwords are kept as salted scrypt hashes at OWASP's current minimum cost
(N=2**17, r=8, p=1: 128 MiB and a good part of a second each), and a hash
made at a lower cost is made again at the next login. At most two hashes
are computed at once, so a burst of logins cannot take the server's memory.
A session id travels only in an HttpOnly, SameSite=Strict cookie (Secure
over HTTPS) and is stored hashed, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from pathlib import Path
from typing import Optional

COOKIE = "kiosk_session"
LOGIN_COOKIE = "kiosk_login"
SESSION_HOURS = 8
SCRYPT = {"n": 2**17, "r": 8, "p": 1}
MAXMEM = 2**28  # 256 MiB: room for N=2**17, r=8 (128 MiB), which the default 32 MiB refuses
MIN_PASSWORD = 10
_SLOTS = threading.BoundedSemaphore(2)
COMMON = frozenset(line.strip().casefold() for line in
                   (Path(__file__).resolve().parent / "common-passwords.txt").read_text(encoding="utf-8").splitlines()
                   if line.strip() and not line.startswith("#"))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    with _SLOTS:
        return hashlib.scrypt(password.encode(), salt=salt, dklen=32, n=n, r=r, p=p, maxmem=MAXMEM)


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password` at the current cost, as stored."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: Optional[str]) -> bool:
    """Whether `password` matches the `stored` hash (taking as long for a name that does not exist)."""
    if not stored:
        _scrypt("x", b"0" * 16, **SCRYPT)
        return False
    _, n, r, p, salt, digest = stored.split("$")
    again = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    return hmac.compare_digest(again.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made at another cost than today's (it is made again at the next login)."""
    _, n, r, p, _, _ = stored.split("$")
    return (int(n), int(r), int(p)) != (SCRYPT["n"], SCRYPT["r"], SCRYPT["p"])


def password_problem(password: str, name: str = "") -> Optional[str]:
    """Why a new password is refused, or None: too short, one of the most common, or the account's name."""
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if password.casefold() in COMMON or password.casefold() == name.casefold():
        return "that password is one of the first that anyone would try: choose another"
    return None


def sid_hash(sid: str) -> str:
    """How a session id is kept in the database."""
    return hashlib.sha256(sid.encode()).hexdigest()
