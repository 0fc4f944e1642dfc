"""Passwords, tokens and roles: rules that need no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from argon2 import PasswordHasher

from dispatch.auth.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from dispatch.auth.principal import Principal
from dispatch.auth.roles import Role, parse_roles
from dispatch.auth.tokens import (
    TokenError,
    TokenExpired,
    decode_token,
    issue_token,
    signing_key,
)
from dispatch.settings import Settings

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = Settings(secret_key="unit-secret-of-at-least-thirty-two-bytes", token_minutes=60)


def liaison(department: str = "water") -> Principal:
    return Principal(
        id="u-1", username="li", roles=frozenset({Role.LIAISON}), department=department
    )


def test_a_password_verifies_against_its_own_hash_only() -> None:
    stored = hash_password("secret123", hasher=FAST)
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "secret123", hasher=FAST)
    assert not verify_password(stored, "secret124", hasher=FAST)


def test_a_malformed_stored_hash_never_matches() -> None:
    assert not verify_password("not-a-hash", "secret123")
    assert needs_rehash("not-a-hash")


def test_a_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = hash_password("secret123", hasher=FAST)
    assert needs_rehash(weak)
    assert not needs_rehash(weak, hasher=FAST)


@pytest.mark.parametrize("password", ["", "short", "x" * 7, "x" * 1025])
def test_password_policy_refuses_too_short_or_too_long(password: str) -> None:
    with pytest.raises(ValueError, match="characters"):
        check_password_policy(password)


def test_a_token_carries_the_users_identity_and_scope() -> None:
    token, expires_in = issue_token(liaison(), SETTINGS, NOW)
    claims = decode_token(token, SETTINGS, now=NOW + timedelta(minutes=59))
    assert expires_in == 3600
    assert claims.principal == liaison()
    assert claims.roles == {Role.LIAISON}
    assert claims.department == "water" and claims.street is None
    assert claims.issued_at == NOW and claims.expires_at == NOW + timedelta(hours=1)
    assert len(claims.token_id) == 32


def test_every_token_has_its_own_id() -> None:
    first, _ = issue_token(liaison(), SETTINGS, NOW)
    second, _ = issue_token(liaison(), SETTINGS, NOW)
    assert (
        decode_token(first, SETTINGS, now=NOW).token_id
        != decode_token(second, SETTINGS, now=NOW).token_id
    )


def test_an_expired_token_is_refused_with_a_way_forward() -> None:
    token, _ = issue_token(liaison(), SETTINGS, NOW)
    with pytest.raises(TokenExpired, match="sign in again"):
        decode_token(token, SETTINGS, now=NOW + timedelta(hours=2))


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token, _ = issue_token(
        liaison(), Settings(secret_key="other-secret-of-at-least-thirty-two-bytes"), NOW
    )
    with pytest.raises(TokenError, match="signature"):
        decode_token(token, SETTINGS, now=NOW)


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(TokenError, match="malformed"):
        decode_token(token, SETTINGS, now=NOW)


def test_an_unsigned_token_is_refused() -> None:
    claims = {"sub": "u-1", "username": "li", "roles": ["admin"], "iat": 1, "exp": 2**40}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(TokenError):
        decode_token(unsigned, SETTINGS, now=NOW)


def test_a_token_without_required_claims_is_refused() -> None:
    partial = jwt.encode({"sub": "u-1"}, signing_key(SETTINGS), algorithm="HS256")
    with pytest.raises(TokenError, match="lacks"):
        decode_token(partial, SETTINGS, now=NOW)


def test_a_token_with_an_unknown_role_is_refused() -> None:
    forged = {
        "sub": "u-1",
        "username": "li",
        "roles": ["emperor"],
        "iat": 1,
        "exp": 2**40,
        "jti": "x",
    }
    token = jwt.encode(forged, signing_key(SETTINGS), algorithm="HS256")
    with pytest.raises(TokenError, match="claims"):
        decode_token(token, SETTINGS, now=NOW)


def test_roles_parse_case_insensitively_and_name_the_choices_when_unknown() -> None:
    assert parse_roles([" Liaison", "ADMIN"]) == {Role.LIAISON, Role.ADMIN}
    with pytest.raises(ValueError, match="unknown role 'boss'; the roles are: operator"):
        parse_roles(["boss"])


def test_a_liaison_only_user_is_confined_to_their_department() -> None:
    user = liaison("water")
    assert user.is_liaison_only and user.department_scope == "water"
    assert user.is_liaison_of("water") and not user.is_liaison_of("roads")
    assert not user.sees_phone_numbers


def test_a_liaison_with_another_role_sees_more_but_acts_only_for_their_department() -> None:
    user = Principal(
        id="u-2",
        username="both",
        roles=frozenset({Role.LIAISON, Role.SUPERVISOR}),
        department="water",
    )
    assert not user.is_liaison_only and user.department_scope is None
    assert user.is_liaison_of("water") and not user.is_liaison_of("roads")
    assert user.has_any(Role.ADMIN, "supervisor") and not user.has(Role.ADMIN)
    assert user.role_for(Role.DISPATCHER, Role.SUPERVISOR, Role.LIAISON) is Role.SUPERVISOR


def test_operators_and_dispatchers_see_phone_numbers() -> None:
    for role in (Role.OPERATOR, Role.DISPATCHER):
        assert Principal(id="u", username="u", roles=frozenset({role})).sees_phone_numbers


def test_a_token_checked_once_is_still_refused_once_it_expires() -> None:
    issued_at = datetime(2026, 5, 1, 8, tzinfo=UTC)
    token, _ = issue_token(liaison(), SETTINGS, issued_at)
    assert decode_token(token, SETTINGS, now=issued_at).department == "water"  # now remembered
    with pytest.raises(TokenExpired):
        decode_token(token, SETTINGS, now=issued_at + timedelta(hours=2))


def test_a_token_checked_once_is_refused_under_another_secret() -> None:
    token, _ = issue_token(liaison(), SETTINGS, datetime.now(UTC))
    decode_token(token, SETTINGS)
    other = Settings(secret_key="another-secret-of-at-least-thirty-two-b", token_minutes=60)
    with pytest.raises(TokenError, match="signature"):
        decode_token(token, other)
