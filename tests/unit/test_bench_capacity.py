"""Capacity: the highest offered rate answered with p99 ≤ 50 ms and no error."""

from __future__ import annotations

from collections.abc import Callable

from bench.capacity import Step, find_capacity


def service(
    limit: float, errors_above: float | None = None
) -> tuple[Callable[[float], Step], list[float]]:
    """A fake ``measure``: p99 10 ms up to ``limit`` per second, 200 ms above it."""
    tried: list[float] = []

    def measure(rate: float) -> Step:
        tried.append(rate)
        offered = int(rate * 5)
        failing = errors_above is not None and rate > errors_above
        p99 = 0.010 if rate <= limit else 0.200
        return Step(rate, offered, offered - failing, int(failing), 0.005, p99)

    return measure, tried


def test_the_search_stops_after_the_first_failing_step() -> None:
    measure, tried = service(limit=110)
    capacity = find_capacity(measure, [25, 50, 100, 150, 200], refine=0, retries=0)
    assert capacity.rate == 100 and not capacity.capped
    assert tried == [25, 50, 100, 150]


def test_refining_halves_the_gap_between_the_last_pass_and_the_first_fail() -> None:
    measure, tried = service(limit=130)
    capacity = find_capacity(measure, [25, 50, 100, 150, 200], refine=2, retries=0)
    assert tried == [25, 50, 100, 150, 125, 138]
    assert capacity.rate == 125


def test_a_service_passing_every_step_is_capped_at_the_last_rate() -> None:
    measure, _ = service(limit=10_000)
    capacity = find_capacity(measure, [25, 50], refine=1, retries=0)
    assert capacity.rate == 50 and capacity.capped


def test_one_error_fails_a_step_however_fast() -> None:
    measure, _ = service(limit=10_000, errors_above=60)
    assert find_capacity(measure, [25, 50, 75, 100], refine=0, retries=0).rate == 50


def test_a_service_failing_the_first_step_has_no_capacity_above_the_refinement() -> None:
    measure, tried = service(limit=5)
    capacity = find_capacity(measure, [25, 50], refine=1, retries=0)
    assert tried == [25, 12]
    assert capacity.rate == 0 and not capacity.capped


def test_the_steps_are_kept_with_their_verdicts() -> None:
    measure, _ = service(limit=60)
    document = find_capacity(measure, [25, 50, 100], refine=0, retries=0).as_json()
    assert document["capacity_per_s"] == 50
    assert [s["passed"] for s in document["steps"]] == [True, True, False]
    assert document["p99_limit_ms"] == 50


def test_a_step_failed_once_is_offered_again_before_it_counts() -> None:
    measure, tried = service(limit=110)
    flaky = {50}  # a neighbour's burst during the first step at 50/s

    def once_unlucky(rate: float) -> Step:
        step = measure(rate)
        if rate in flaky:
            flaky.discard(rate)
            return Step(rate, step.offered, step.answered, 0, 0.005, 0.300)
        return step

    capacity = find_capacity(once_unlucky, [25, 50, 100, 150], refine=0, retries=1)
    assert tried == [25, 50, 50, 100, 150, 150]
    assert capacity.rate == 100
