"""The one table of ``dispatch bench``: ratios, targets, and how the rows are written."""

from __future__ import annotations

from bench.figures import Figure, Target, markdown_table, number, text_table


def test_the_ratio_is_ours_over_raw_and_absent_without_a_baseline() -> None:
    assert Figure("append", "events/s", 900, 1800).ratio == 0.5
    assert Figure("KPI by grid p95", "ms", 40).ratio is None
    assert Figure("append", "events/s", 900, 0).ratio is None
    assert Figure("append", "events/s", None, 1800).ratio is None


def test_a_target_on_the_ratio_judges_the_ratio() -> None:
    at_least_half = Target("ratio", "≥", 0.5)
    assert Figure("append", "events/s", 900, 1800, at_least_half).met is True
    assert Figure("append", "events/s", 899, 1800, at_least_half).met is False


def test_a_target_on_our_figure_ignores_the_baseline() -> None:
    within_a_second = Target("ours", "≤", 1000, "ms")
    assert Figure("inbox p99", "ms", 1000, 5, within_a_second).met is True
    assert Figure("inbox p99", "ms", 1001, 5000, within_a_second).met is False


def test_a_figure_without_a_target_or_its_value_is_not_judged() -> None:
    assert Figure("peak RSS api", "MB", 160).met is None
    assert Figure("append", "events/s", 900, None, Target("ratio", "≥", 0.5)).met is None


def test_a_figure_marked_failing_fails_whatever_its_numbers() -> None:
    lost = Figure("inbox p99", "ms", 10, 5, Target("ours", "≤", 1000, "ms"), fails=True)
    assert lost.met is False


def test_targets_describe_themselves_as_the_issue_states_them() -> None:
    assert Target("ratio", "≥", 0.5).describe() == "ratio ≥ 0.5"
    assert Target("ours", "≤", 1000, "ms").describe() == "≤ 1,000 ms"
    assert Target("ours", "≥", 20_000, "events/s").describe() == "≥ 20,000 events/s"


def test_numbers_keep_about_three_significant_figures() -> None:
    assert [number(v) for v in (12345.6, 250, 42.42, 4.567, 0.1234)] == [
        "12,346",
        "250",
        "42.4",
        "4.57",
        "0.123",
    ]


FIGURES = [
    Figure("event append, 8 writers", "events/s", 900, 1800, Target("ratio", "≥", 0.5)),
    Figure("KPI by grid p95", "ms", 137, None, Target("ours", "≤", 100, "ms")),
    Figure("peak RSS api", "MB", 160.4),
]


def test_the_text_table_has_one_row_a_figure_in_aligned_columns() -> None:
    lines = text_table(FIGURES).splitlines()
    assert lines[0].split() == ["figure", "ours", "raw", "baseline", "ratio", "target", "met?"]
    assert len(lines) == 2 + len(FIGURES)
    assert lines[2].split()[-1] == "yes" and "0.50" in lines[2]
    assert lines[3].split()[-1] == "NO" and "—" in lines[3]
    assert lines[4].endswith("—") and "160 MB" in lines[4]
    # The numbers end in the same column in every row.
    ours_ends = {line.index(" MB") if " MB" in line else None for line in lines[4:]}
    assert len(ours_ends) == 1


def test_the_markdown_table_has_the_same_rows_and_escapes_pipes() -> None:
    table = markdown_table([*FIGURES, Figure("a | b", "ms", 1.0)]).splitlines()
    assert table[0] == "| figure | ours | raw baseline | ratio | target | met? |"
    assert table[2] == (
        "| event append, 8 writers | 900 events/s | 1,800 events/s | 0.50 | ratio ≥ 0.5 | yes |"
    )
    assert table[-1].startswith("| a \\| b |")


def test_a_note_is_said_beside_the_figure() -> None:
    capped = Figure("intake capacity", "req/s", 300, 800, note="ours passed every step")
    assert "intake capacity (ours passed every step)" in text_table([capped])
