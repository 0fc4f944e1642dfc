"""The API's short memory of signed-in users: never older than its TTL, emptied by a write."""

from __future__ import annotations

from datetime import UTC, datetime

from dispatch.auth.recent_users import RecentUsers, current_generation, users_changed
from dispatch.auth.roles import Role
from dispatch.auth.users import User

from worlds.clocks import HandClock


def user(user_id: str = "u-1", *, active: bool = True) -> User:
    return User(
        id=user_id,
        username=f"name-{user_id}",
        roles=frozenset({Role.OPERATOR}),
        display_name="话务员",
        active=active,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_user_read_moments_ago_is_remembered() -> None:
    clock = HandClock()
    recent = RecentUsers(ttl=2.0, clock=clock)
    recent.put(user(), generation=current_generation())
    clock.now += 1.9
    assert recent.get("u-1") == user()


def test_a_user_read_longer_ago_than_the_ttl_is_read_again() -> None:
    clock = HandClock()
    recent = RecentUsers(ttl=2.0, clock=clock)
    recent.put(user(), generation=current_generation())
    clock.now += 2.0
    assert recent.get("u-1") is None


def test_a_write_to_the_users_in_this_process_forgets_every_remembered_user() -> None:
    recent = RecentUsers(ttl=60.0)
    recent.put(user(), generation=current_generation())
    users_changed()  # say, an admin disabled someone
    assert recent.get("u-1") is None


def test_a_read_that_raced_a_write_is_not_trusted() -> None:
    recent = RecentUsers(ttl=60.0)
    before_the_read = current_generation()
    users_changed()  # the write lands while the (older) row is being read
    recent.put(user(active=True), generation=before_the_read)
    assert recent.get("u-1") is None


def test_an_unknown_user_is_not_remembered() -> None:
    assert RecentUsers().get("nobody") is None
