"""Staff administration: what an admin changes about a user, each change that takes
authority away ending the user's sessions at once (``users.session_version``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.engine import Connection

from dispatch.auth.admin_log import AdminAction, record_admin_action
from dispatch.auth.passwords import DEFAULT_HASHER, check_password_policy, hash_password
from dispatch.auth.recent_users import users_changed
from dispatch.auth.roles import Role, ordered
from dispatch.auth.users import (
    DISPLAY_NAME_MAX,
    InvalidUser,
    UnknownUser,
    User,
    add_user,
    check_code,
    check_role_bindings,
    check_roles,
    get_user,
    users,
)


class Keep:
    """The value of an optional argument left out: keep what is stored."""


KEEP = Keep()


def update_user(
    conn: Connection,
    user_id: str,
    *,
    roles: Iterable[str | Role] | None = None,
    department: str | Keep | None = KEEP,
    street: str | Keep | None = KEEP,
    grid: str | Keep | None = KEEP,
    active: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Change what an admin may change; ends the user's sessions when their roles, scope or
    status change, so a token issued under the old ones is refused on its next request.

    A binding the new roles no longer allow is dropped unless it is given: taking the
    liaison role away clears the department. Raises ``UnknownUser`` and ``InvalidUser``.
    """
    old = get_user(conn, user_id)
    if old is None:
        raise UnknownUser(user_id)
    held = old.roles if roles is None else check_roles(roles)
    if isinstance(department, Keep):
        department = old.department if Role.LIAISON in held else None
    else:
        department = check_code("department", department)
    if isinstance(street, Keep):
        street = old.street if Role.STREET in held else None
    else:
        street = check_code("street", street)
    if isinstance(grid, Keep):
        grid = old.grid if Role.GRID in held else None
    else:
        grid = check_code("grid", grid)
    check_role_bindings(held, department=department, street=street, grid=grid)
    shown = old.display_name if display_name is None else display_name.strip() or old.username
    if len(shown) > DISPLAY_NAME_MAX:
        raise InvalidUser("display_name", f"display_name has at most {DISPLAY_NAME_MAX} characters")
    is_active = old.active if active is None else active
    ends_sessions = (held, department, street, grid, is_active) != (
        old.roles,
        old.department,
        old.street,
        old.grid,
        old.active,
    )
    values: dict[str, object] = {
        "roles": [role.value for role in ordered(held)],
        "department": department,
        "street": street,
        "grid": grid,
        "active": is_active,
        "display_name": shown,
    }
    if ends_sessions:
        values["session_version"] = users.c.session_version + 1
    conn.execute(users.update().where(users.c.id == user_id).values(values))
    users_changed()
    updated = get_user(conn, user_id)
    assert updated is not None
    return updated


def deactivate_user(conn: Connection, user_id: str) -> bool:
    """Stop a user signing in and void their tokens at once; False if there is no such user."""
    try:
        update_user(conn, user_id, active=False)
    except UnknownUser:
        return False
    return True


def set_password_hash(conn: Connection, user_id: str, password_hash: str) -> bool:
    """Store a new password (hashed by the caller, outside the transaction) and end every
    session of the user; False if there is no such user."""
    result = conn.execute(
        users.update()
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, session_version=users.c.session_version + 1)
    )
    users_changed()
    return result.rowcount == 1


def new_password_hash(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The hash of a new password that meets the policy; ``InvalidUser`` if it does not."""
    try:
        check_password_policy(password)
    except ValueError as error:
        raise InvalidUser("password", str(error)) from None
    return hash_password(password, hasher=hasher)


# -- the same changes, each with its row in the admin log (``dispatch.auth.admin_log``) ------


def describe(user: User) -> str:
    """``roles=liaison department=envir active`` — what the admin log keeps of a user."""
    parts = [f"roles={','.join(role.value for role in ordered(user.roles))}"]
    parts += [
        f"{field}={value}"
        for field, value in (
            ("department", user.department),
            ("street", user.street),
            ("grid", user.grid),
        )
        if value
    ]
    parts.append("active" if user.active else "disabled")
    return " ".join(parts)


def add_staff(conn: Connection, *, actor: str, now: datetime, **fields: Any) -> User:
    """``add_user`` and its row in the admin log, in the caller's transaction."""
    user = add_user(conn, now=now, **fields)
    record_admin_action(
        conn, actor=actor, action="user_added", target=user.username, detail=describe(user), now=now
    )
    return user


def change_staff(
    conn: Connection, user_id: str, *, actor: str, now: datetime, **changes: Any
) -> User:
    """``update_user`` and its row: disabled, enabled or changed, with before → after."""
    old = get_user(conn, user_id)
    if old is None:
        raise UnknownUser(user_id)
    new = update_user(conn, user_id, **changes)
    before, after = describe(old), describe(new)
    if old.display_name != new.display_name:
        before, after = f"{before} name={old.display_name}", f"{after} name={new.display_name}"
    if before == after:
        return new
    action: AdminAction = "user_changed"
    if old.active != new.active:
        action = "user_enabled" if new.active else "user_disabled"
    record_admin_action(
        conn, actor=actor, action=action, target=new.username, detail=f"{before} → {after}", now=now
    )
    return new


def reset_staff_password(
    conn: Connection, user_id: str, password_hash: str, *, actor: str, now: datetime
) -> bool:
    """``set_password_hash`` and its row (never the password); False if there is no such user."""
    user = get_user(conn, user_id)
    if user is None or not set_password_hash(conn, user_id, password_hash):
        return False
    record_admin_action(conn, actor=actor, action="password_reset", target=user.username, now=now)
    return True
