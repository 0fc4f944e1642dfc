"""Users, roles and API keys on the real database (PostgreSQL in CI, else SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from dispatch.auth.apikeys import add_api_key, check_api_key, revoke_api_keys
from dispatch.auth.passwords import needs_rehash
from dispatch.auth.roles import Role
from dispatch.auth.signin import authenticate
from dispatch.auth.staff import deactivate_user
from dispatch.auth.users import (
    DuplicateUsername,
    InvalidUser,
    User,
    add_user,
    count_users,
    find_user_by_username,
    get_user,
    list_users,
    users,
)

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "secret-123"


@pytest.fixture
def new_user(engine: Engine, unique: str) -> Callable[..., User]:
    def make(**fields: Any) -> User:
        values: dict[str, Any] = {
            "username": f"user-{unique}",
            "password": PASSWORD,
            "roles": ["operator"],
            "hasher": FAST,
        }
        values.update(fields)
        with engine.begin() as conn:
            return add_user(conn, **values)

    return make


def test_a_user_is_stored_with_roles_and_binding_but_never_shown_its_hash(
    engine: Engine, new_user: Callable[..., User], unique: str
) -> None:
    user = new_user(username=f"Li-{unique}", roles=["liaison", "supervisor"], department="water")
    assert user.username == f"li-{unique}"  # usernames are case-insensitive
    assert user.roles == {Role.LIAISON, Role.SUPERVISOR}
    assert user.display_name == user.username and user.active
    with engine.connect() as conn:
        assert get_user(conn, user.id) == user
        assert find_user_by_username(conn, f"LI-{unique}") == user
        stored = conn.execute(sa.select(users).where(users.c.id == user.id)).one()
    assert stored.roles == ["liaison", "supervisor"]
    assert stored.password_hash.startswith("$argon2id$")
    assert not hasattr(user, "password_hash")


def test_the_right_password_authenticates_and_a_weak_hash_is_upgraded(
    engine: Engine, new_user: Callable[..., User]
) -> None:
    user = new_user()
    assert authenticate(engine, user.username.upper(), PASSWORD) == user
    with engine.connect() as conn:
        stored = conn.execute(sa.select(users.c.password_hash).where(users.c.id == user.id))
        assert not needs_rehash(stored.scalar_one())


def test_a_wrong_password_or_an_unknown_user_does_not_authenticate(
    engine: Engine, new_user: Callable[..., User], unique: str
) -> None:
    user = new_user()
    assert authenticate(engine, user.username, "wrong-password", hasher=FAST) is None
    assert authenticate(engine, f"nobody-{unique}", PASSWORD, hasher=FAST) is None
    assert authenticate(engine, user.username, "x" * 5000, hasher=FAST) is None


def test_a_disabled_user_does_not_authenticate(
    engine: Engine, new_user: Callable[..., User]
) -> None:
    user = new_user()
    with engine.begin() as conn:
        assert deactivate_user(conn, user.id)
    assert authenticate(engine, user.username, PASSWORD, hasher=FAST) is None
    with engine.connect() as conn:
        assert get_user(conn, user.id) is not None
        assert not get_user(conn, user.id).active  # type: ignore[union-attr]


def test_a_taken_username_is_refused_whatever_its_case(
    engine: Engine, new_user: Callable[..., User], unique: str
) -> None:
    new_user(username=f"dup-{unique}")
    with pytest.raises(DuplicateUsername, match="is taken"):
        new_user(username=f"DUP-{unique}")
    with engine.connect() as conn:
        assert find_user_by_username(conn, f"dup-{unique}") is not None


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"roles": ["boss"]}, "roles", "unknown role 'boss'"),
        ({"roles": []}, "roles", "at least one role"),
        ({"roles": ["liaison"]}, "department", "a liaison acts for one department"),
        ({"roles": ["street"]}, "street", "a street officer acts for one street"),
        ({"roles": ["operator"], "department": "water"}, "department", "only a liaison"),
        ({"roles": ["liaison"], "department": "water", "street": "XYL"}, "street", "only a"),
        ({"password": "short"}, "password", "at least 8 characters"),
        ({"username": "  "}, "username", "must not be empty"),
        ({"username": "two words"}, "username", "spaces"),
    ],
)
def test_an_impossible_user_is_refused_naming_the_field(
    engine: Engine,
    new_user: Callable[..., User],
    unique: str,
    fields: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(InvalidUser, match=message) as refused:
        new_user(**fields)
    assert refused.value.field == field
    with engine.connect() as conn:
        assert find_user_by_username(conn, f"user-{unique}") is None


def test_a_street_officer_is_bound_to_their_street(new_user: Callable[..., User]) -> None:
    user = new_user(roles=[Role.STREET], street=" XYL ")
    assert user.street == "XYL" and user.department is None


def test_users_are_listed_by_username_and_counted(
    engine: Engine, new_user: Callable[..., User], unique: str
) -> None:
    new_user(username=f"list-b-{unique}")
    new_user(username=f"list-a-{unique}")
    with engine.connect() as conn:
        names = [user.username for user in list_users(conn)]
        total = count_users(conn)
    assert names == sorted(names) and len(names) == total
    assert names.index(f"list-a-{unique}") < names.index(f"list-b-{unique}")


def test_an_api_key_identifies_its_client_until_revoked(engine: Engine, unique: str) -> None:
    with engine.begin() as conn:
        key = add_api_key(conn, f"city-app-{unique}")
    with engine.begin() as conn:
        assert check_api_key(conn, key) == f"city-app-{unique}"
        assert check_api_key(conn, key + "x") is None
        stored = conn.execute(sa.text("SELECT key_hash FROM api_keys")).scalars().all()
        assert key not in stored  # only the digest is kept
        assert revoke_api_keys(conn, f"city-app-{unique}") == 1
        assert check_api_key(conn, key) is None


def test_an_api_key_needs_a_name(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(ValueError, match="name"):
        add_api_key(conn, "  ")
