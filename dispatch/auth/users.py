"""Users: who may sign in, with which roles, bound to which department or street."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from dispatch.auth.passwords import DEFAULT_HASHER, check_password_policy, hash_password
from dispatch.auth.principal import Principal
from dispatch.auth.roles import ALL_ROLES, Role, listed_roles, ordered, parse_role

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("department", sa.String(64), nullable=True),
    sa.Column("street", sa.String(64), nullable=True),
    sa.Column("grid", sa.String(64), nullable=True),  # the grid role's one grid (migration 0012)
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    # Raised whenever the user's sessions must end (disabled, re-roled, new password); every
    # token and console session carries the value it was issued under (migration 0008).
    sa.Column("session_version", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.UniqueConstraint("username", name="uq_users_username"),
)

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 128
CODE_MAX = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class User(Principal):
    """A stored user (never with the password hash); usable wherever a ``Principal`` is."""

    display_name: str
    active: bool
    created_at: datetime
    session_version: int = 0


class InvalidUser(ValueError):
    """A user that cannot exist; ``field`` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UnknownUser(LookupError):
    def __init__(self, user: str) -> None:
        super().__init__(f"there is no user {user!r}")
        self.user = user


class DuplicateUsername(Exception):
    def __init__(self, username: str) -> None:
        super().__init__(f"the username {username!r} is taken; choose another")
        self.username = username


def normalise_username(username: str) -> str:
    """Usernames are compared case-insensitively, so ``Zhang`` and ``zhang`` are one user."""
    return username.strip().lower()


def add_user(
    conn: Connection,
    *,
    username: str,
    password: str,
    roles: Iterable[str | Role],
    display_name: str | None = None,
    department: str | None = None,
    street: str | None = None,
    grid: str | None = None,
    now: datetime | None = None,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> User:
    """Validate and store a new user.

    Raises ``InvalidUser`` (a ``ValueError`` naming the field) for an unknown role, a liaison
    without a department, a street officer without a street, a grid worker without a grid, or
    a department, street or grid given to a user who holds no role bound to one;
    ``DuplicateUsername`` when the name is taken.
    """
    name = _check_username(username)
    try:
        check_password_policy(password)
    except ValueError as error:
        raise InvalidUser("password", str(error)) from None
    held = check_roles(roles)
    department = check_code("department", department)
    street = check_code("street", street)
    grid = check_code("grid", grid)
    check_role_bindings(held, department=department, street=street, grid=grid)
    shown = (display_name or "").strip() or name
    if len(shown) > DISPLAY_NAME_MAX:
        raise InvalidUser("display_name", f"display_name has at most {DISPLAY_NAME_MAX} characters")
    if find_user_by_username(conn, name) is not None:
        raise DuplicateUsername(name)
    user = User(
        id=str(uuid.uuid4()),
        username=name,
        roles=held,
        department=department,
        street=street,
        grid=grid,
        display_name=shown,
        active=True,
        created_at=now or datetime.now(UTC),
    )
    row = {
        "id": user.id,
        "username": user.username,
        "password_hash": hash_password(password, hasher=hasher),
        "display_name": user.display_name,
        "roles": [role.value for role in ordered(held)],
        "department": department,
        "street": street,
        "grid": grid,
        "active": True,
        "created_at": user.created_at,
        "session_version": 0,
    }
    try:
        conn.execute(users.insert().values(row))
    except IntegrityError:
        # Another writer took the name between our check and our insert.
        raise DuplicateUsername(name) from None
    return user


def check_role_bindings(
    roles: frozenset[Role],
    *,
    department: str | None,
    street: str | None,
    grid: str | None = None,
) -> None:
    """A liaison acts for exactly one department, a street officer for one street and a grid
    worker (网格员) for one grid."""
    if Role.LIAISON in roles and department is None:
        raise InvalidUser(
            "department", "a liaison acts for one department: give its department code"
        )
    if Role.STREET in roles and street is None:
        raise InvalidUser("street", "a street officer acts for one street: give its street code")
    if department is not None and Role.LIAISON not in roles:
        raise InvalidUser(
            "department", "only a liaison is bound to a department: add the liaison role or omit it"
        )
    if street is not None and Role.STREET not in roles:
        raise InvalidUser(
            "street", "only a street officer is bound to a street: add the street role or omit it"
        )
    if Role.GRID in roles and grid is None:
        raise InvalidUser("grid", "a grid worker patrols one grid: give its grid code")
    if grid is not None and Role.GRID not in roles:
        raise InvalidUser(
            "grid", "only a grid worker is bound to a grid: add the grid role or omit it"
        )


def find_user_by_username(conn: Connection, username: str) -> User | None:
    row = conn.execute(
        sa.select(users).where(users.c.username == normalise_username(username))
    ).first()
    return None if row is None else user_of_row(row)


def get_user(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
    return None if row is None else user_of_row(row)


def list_users(conn: Connection, *, offset: int = 0, limit: int | None = None) -> list[User]:
    query = sa.select(users).order_by(users.c.username).offset(offset).limit(limit)
    return [user_of_row(row) for row in conn.execute(query)]


def count_users(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()


def user_of_row(row: sa.Row) -> User:
    created = row.created_at
    if created.tzinfo is None:  # SQLite keeps no offset; everything is stored in UTC
        created = created.replace(tzinfo=UTC)
    return User(
        id=row.id,
        username=row.username,
        # A role written by a newer version grants nothing here rather than failing sign-in.
        roles=frozenset(Role(value) for value in row.roles if value in ALL_ROLES),
        department=row.department,
        street=row.street,
        grid=row.grid,
        display_name=row.display_name,
        active=bool(row.active),
        created_at=created,
        session_version=row.session_version,
    )


def _check_username(username: str) -> str:
    name = normalise_username(username)
    if not name:
        raise InvalidUser("username", "the username must not be empty")
    if len(name) > USERNAME_MAX:
        raise InvalidUser("username", f"the username has at most {USERNAME_MAX} characters")
    if any(char.isspace() or not char.isprintable() for char in name):
        raise InvalidUser("username", "the username must not contain spaces or control characters")
    return name


def check_roles(values: Iterable[str | Role]) -> frozenset[Role]:
    try:
        held = frozenset(parse_role(value) for value in values)
    except ValueError as error:
        raise InvalidUser("roles", str(error)) from None
    if not held:
        raise InvalidUser("roles", f"give the user at least one role: {listed_roles()}")
    return held


def check_code(field: str, code: str | None) -> str | None:
    code = (code or "").strip() or None
    if code is not None and len(code) > CODE_MAX:
        raise InvalidUser(field, f"{field} is a catalogue code of at most {CODE_MAX} characters")
    return code
