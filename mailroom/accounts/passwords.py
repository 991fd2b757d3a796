"""Password hashes: argon2id with the library's current parameters (RFC 9106's
second recommended set). argon2 is imported only here, when a password is set or
checked, never at a command's start."""

from __future__ import annotations

from functools import cache
from typing import Any

MIN_LENGTH = 12  # NCSC: length over complexity rules


@cache
def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(stored: str, password: str) -> bool:
    """True if ``password`` matches ``stored``; False for an empty or unreadable hash."""
    if not stored:
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return bool(_hasher().check_needs_rehash(stored))


# A hash of nothing anyone knows: checked against when the account does not exist,
# so a wrong email and a wrong password take the same time.
_DECOY: list[str] = []


def decoy_verify(password: str) -> None:
    if not _DECOY:
        _DECOY.append(hash_password("decoy: no such account"))
    verify_password(_DECOY[0], password)
