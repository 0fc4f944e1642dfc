"""The KPI formulas of DESIGN.md §3, checked by hand on small counts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from dispatch.catalogue import KpiWeightsSetting as CatalogueKpi
from dispatch.domain.kpi_formulas import (
    DEFAULT_WEIGHTS,
    KpiCounts,
    KpiWeights,
    closure_rate,
    kpi_row,
    on_time_rate,
    reopen_rate,
    response_rate,
    return_rate,
    satisfaction_rate,
    score,
    sign_rate,
    solve_rate,
    weights_from_catalogue,
)


def test_a_rate_with_nothing_due_is_null_not_zero() -> None:
    empty = KpiCounts()
    assert sign_rate(empty) is None
    assert response_rate(empty) is None
    assert on_time_rate(empty) is None
    assert closure_rate(empty) is None
    assert solve_rate(empty) is None
    assert satisfaction_rate(empty) is None
    assert return_rate(empty) is None
    assert reopen_rate(empty) is None
    assert score(None, None, None) is None


def test_timeliness_rates_divide_by_the_tasks_due() -> None:
    counts = KpiCounts(
        dispatched=10,
        due_sign=8,
        signed_on_time=6,
        due_contact=5,
        responded_on_time=4,
        due_reply=4,
        replied_on_time=1,
        returned=2,
    )
    assert sign_rate(counts) == 6 / 8
    assert response_rate(counts) == 4 / 5
    assert on_time_rate(counts) == 1 / 4
    assert return_rate(counts) == 2 / 10


def test_a_partly_solved_case_counts_half() -> None:
    counts = KpiCounts(rated=4, solved=2, partly=1, unsolved=1)
    assert solve_rate(counts) == pytest.approx((2 + 0.5) / 4)


def test_basic_satisfaction_counts_as_satisfied_unless_weighted_lower() -> None:
    counts = KpiCounts(rated=4, satisfied=1, basic=2, unsatisfied=1)
    assert satisfaction_rate(counts) == pytest.approx(3 / 4)
    stricter = KpiWeights(satisfaction_levels={"satisfied": 1, "basic": 0.5, "unsatisfied": 0})
    assert satisfaction_rate(counts, stricter) == pytest.approx(2 / 4)


def test_closure_and_reopen_rates() -> None:
    counts = KpiCounts(received=8, closed=6, ever_closed=7, reopened=1)
    assert closure_rate(counts) == 6 / 8
    assert reopen_rate(counts) == 1 / 7


def test_score_is_the_weighted_sum_with_the_default_weights() -> None:
    assert score(0.5, 0.75, 1.0) == pytest.approx(30 * 0.5 + 35 * 0.75 + 35 * 1.0)
    assert score(1.0, 1.0, 1.0) == pytest.approx(100)


def test_score_leaves_out_a_rate_that_has_no_denominator() -> None:
    assert score(0.5, None, None) == pytest.approx(50)
    assert score(None, 0.8, 0.6) == pytest.approx(100 * (35 * 0.8 + 35 * 0.6) / 70)


def test_score_keeps_a_0_to_100_scale_with_other_weights() -> None:
    weights = KpiWeights(response=1, solve=1, satisfaction=2)
    assert score(1.0, 0.0, 0.5, weights) == pytest.approx(100 * (1 + 0 + 1) / 4)


def test_the_catalogue_kpi_section_overrides_the_weights() -> None:
    catalogue = SimpleNamespace(kpi=CatalogueKpi(response=40, solve=30, satisfaction=30))
    weights = weights_from_catalogue(catalogue)
    assert (weights.response, weights.solve, weights.satisfaction) == (40, 30, 30)


def test_a_missing_or_odd_kpi_section_falls_back_to_the_defaults() -> None:
    assert weights_from_catalogue(None) is DEFAULT_WEIGHTS
    assert weights_from_catalogue(SimpleNamespace()) is DEFAULT_WEIGHTS
    odd = SimpleNamespace(kpi=SimpleNamespace(response="lots", solve=-1, satisfaction=True))
    assert weights_from_catalogue(odd) == DEFAULT_WEIGHTS
    zero = SimpleNamespace(kpi=SimpleNamespace(response=0, solve=0, satisfaction=0))
    assert weights_from_catalogue(zero) is DEFAULT_WEIGHTS


def test_the_kpi_row_has_every_field_of_the_contract() -> None:
    row = kpi_row("water", KpiCounts(dispatched=1, due_sign=1, signed_on_time=1))
    assert set(row) >= {
        "key", "dispatched", "signed_on_time", "responded_on_time", "replied_on_time", "closed",
        "rated", "sign_rate", "response_rate", "on_time_rate", "closure_rate", "solve_rate",
        "satisfaction_rate", "return_rate", "reopen_rate", "score",
    }  # fmt: skip
    assert row["sign_rate"] == 1.0
    assert row["score"] is None  # no response, solve or satisfaction rate yet


def test_counts_read_from_sql_nulls_as_zero() -> None:
    counts = KpiCounts.of({"dispatched": 3, "due_sign": None, "unknown_column": 7})
    assert counts.dispatched == 3
    assert counts.due_sign == 0
