"""The demo's cast as users who can sign in, with fresh random passwords on every start.

Usernames are stable (``operator``, ``dispatcher``, ``water-liaison``, ``qh-street``…) and
match the actors in the generated history; passwords are new each time ``dispatch demo``
starts — a demo database is no place for a password someone could read in a README — and
printed once. The demo's Open311 client gets a fresh API key the same way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from dispatch.auth.apikeys import add_api_key, revoke_api_keys
from dispatch.auth.passwords import DEFAULT_HASHER, hash_password
from dispatch.auth.staff import set_password_hash, update_user
from dispatch.auth.users import add_user, find_user_by_username
from dispatch.catalogue import Catalogue

OPEN311_CLIENT = "demo-citizen-app"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    department: str | None = None
    street: str | None = None
    grid: str | None = None


@dataclass(frozen=True)
class Credentials:
    user: DemoUser
    password: str


def cast_of(catalogue: Catalogue) -> list[DemoUser]:
    people = [
        DemoUser("admin", "系统管理员", "admin"),
        DemoUser("operator", "话务员 王丽", "operator"),
        DemoUser("dispatcher", "派单审核 李强", "dispatcher"),
        DemoUser("supervisor", "督办科 张敏", "supervisor"),
    ]
    people += [
        DemoUser(f"{s.code.lower()}-street", f"{s.name}网格员", "street", street=s.code)
        for s in catalogue.streets
    ]
    people += [
        DemoUser(f"{d.code}-liaison", f"{d.name}联络员", "liaison", department=d.code)
        for d in catalogue.departments
    ]
    people += [
        DemoUser(f"{g.code.lower()}-grid", f"{g.name}网格员", "grid", grid=g.code)
        for g in catalogue.grids
    ]
    return people


def new_password() -> str:
    return secrets.token_urlsafe(9)


def ensure_users(
    engine: Engine,
    catalogue: Catalogue,
    *,
    now: datetime,
    hasher: PasswordHasher = DEFAULT_HASHER,
) -> list[Credentials]:
    """Create the cast, or give its existing members new passwords; returns who and what."""
    issued = []
    with engine.begin() as conn:
        for person in cast_of(catalogue):
            password = new_password()
            existing = find_user_by_username(conn, person.username)
            if existing is None:
                add_user(
                    conn,
                    username=person.username,
                    password=password,
                    roles=[person.role],
                    display_name=person.display_name,
                    department=person.department,
                    street=person.street,
                    grid=person.grid,
                    now=now,
                    hasher=hasher,
                )
            else:
                update_user(conn, existing.id, active=True)
                set_password_hash(conn, existing.id, hash_password(password, hasher=hasher))
            issued.append(Credentials(person, password))
    return issued


def fresh_api_key(engine: Engine, *, now: datetime) -> str:
    """A new key for the demo's citizen app; the keys of earlier starts stop working."""
    with engine.begin() as conn:
        revoke_api_keys(conn, OPEN311_CLIENT, now=now)
        return add_api_key(conn, OPEN311_CLIENT, now=now)
