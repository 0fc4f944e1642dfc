"""Argon2id password hashes (argon2-cffi), and the policy a new password must meet."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
# Argon2 takes input of any length; the bound only stops one request hashing megabytes.
MAX_LENGTH = 1024

# argon2-cffi's defaults follow RFC 9106's low-memory profile (argon2id, 64 MiB, t=3).
DEFAULT_HASHER = PasswordHasher()


def check_password_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"the password must have at most {MAX_LENGTH} characters")


def hash_password(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    return hasher.hash(password)


def verify_password(
    password_hash: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> bool:
    """True when ``password`` matches; a malformed stored hash never matches."""
    try:
        return hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """True when the hash was made with other parameters than ``hasher``'s (upgrade on login)."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def dummy_hash() -> str:
    """A hash to verify against when the username is unknown, so that a login for a missing
    user costs as long as one for a real user and timing does not reveal who exists."""
    return DEFAULT_HASHER.hash("no such user; this hash never matches a login")
