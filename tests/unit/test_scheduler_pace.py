"""A scheduler's tail polls at its pace while the log is busy, and slows down only when idle."""

from __future__ import annotations

from workers.scheduler import IDLE_AFTER, IDLE_SLOWDOWN, Pace

from worlds.clocks import HandClock


def test_a_backlog_is_worked_through_without_waiting() -> None:
    pace = Pace(0.2, backlog=100, clock=HandClock())
    assert pace.after(100) == 0.0
    assert pace.after(37) == 0.2


def test_empty_polls_between_busy_ones_do_not_slow_the_tail_down() -> None:
    clock = HandClock()
    pace = Pace(0.2, backlog=100, clock=clock)
    for _ in range(20):  # events found, then a poll too early to read the next ones
        assert pace.after(12) == 0.2
        clock.now += 0.2
        assert pace.after(0) == 0.2
        clock.now += 0.2


def test_an_idle_tail_slows_down_to_its_limit_and_speeds_up_at_the_next_event() -> None:
    clock = HandClock()
    pace = Pace(0.05, backlog=100, clock=clock)
    pace.after(3)
    waits = []
    for _ in range(12):
        clock.now += IDLE_AFTER / 4
        waits.append(pace.after(None))  # a failed step counts as finding nothing
    assert waits[:3] == [0.05, 0.05, 0.05]
    assert waits[-1] == 0.05 * IDLE_SLOWDOWN and waits == sorted(waits)
    assert pace.after(1) == 0.05
