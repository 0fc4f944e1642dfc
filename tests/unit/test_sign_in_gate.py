"""The sign-in gate's rules, on an in-process count and a given clock (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from dispatch.auth.throttle import Busy, Limits, MemoryFailures, SignInGate, Throttled

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def gate(**limits: object) -> SignInGate:
    return SignInGate(MemoryFailures(), limits=Limits(**limits))  # type: ignore[arg-type]


def test_the_sixth_attempt_after_five_failures_waits_until_the_first_leaves_the_window() -> None:
    door = gate()
    for minute in range(5):
        door.check("zhang", "10.0.0.1", NOW + timedelta(minutes=minute))
        door.failed("zhang", "10.0.0.1", NOW + timedelta(minutes=minute))

    with pytest.raises(Throttled) as refused:
        door.check("zhang", "10.0.0.9", NOW + timedelta(minutes=5))

    assert refused.value.retry_after == 10 * 60  # the failure at 09:00 leaves at 09:15
    door.check("zhang", "10.0.0.9", NOW + timedelta(minutes=15, seconds=1))


def test_usernames_are_counted_whatever_their_case() -> None:
    door = gate(per_username=2)
    door.failed("Zhang", None, NOW)
    door.failed(" zhang ", None, NOW)
    with pytest.raises(Throttled):
        door.check("ZHANG", None, NOW)


def test_an_address_is_blocked_for_every_username_after_its_limit() -> None:
    door = gate(per_address=3)
    for name in ("a", "b", "c"):
        door.failed(name, "10.0.0.1", NOW)
    with pytest.raises(Throttled, match="from your address"):
        door.check("d", "10.0.0.1", NOW)
    door.check("d", "10.0.0.2", NOW)


def test_a_success_clears_the_username_but_not_the_address() -> None:
    door = gate(per_username=2, per_address=3)
    door.failed("zhang", "10.0.0.1", NOW)
    door.failed("zhang", "10.0.0.1", NOW)
    door.succeeded("zhang")
    door.check("zhang", "10.0.0.2", NOW)
    door.failed("li", "10.0.0.1", NOW)
    with pytest.raises(Throttled):
        door.check("wang", "10.0.0.1", NOW)


def test_a_check_beyond_the_hashing_slots_is_told_to_come_back() -> None:
    door = gate(slots=1, wait=0.05)

    async def two_at_once() -> None:
        async with door.hashing():
            with pytest.raises(Busy):
                async with door.hashing():
                    pass
        async with door.hashing():  # free again once the first is done
            pass

    anyio.run(two_at_once)
