"""Librarians' passwords and session cookies.

Passwords are kept as salted scrypt hashes (the standard library's, slow by
design). A session id travels only in an HttpOnly, SameSite=Strict cookie and
is stored hashed, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Optional

COOKIE = "kiosk_session"
LOGIN_COOKIE = "kiosk_login"
SESSION_HOURS = 8
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: Optional[str]) -> bool:
    if not stored:
        hashlib.scrypt(b"x", salt=b"0" * 16, dklen=32, **SCRYPT)  # the same time for a name that does not exist
        return False
    _, n, r, p, salt, digest = stored.split("$")
    again = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(again.hex(), digest)


def sid_hash(sid: str) -> str:
    """How a session id is kept in the database."""
    return hashlib.sha256(sid.encode()).hexdigest()
