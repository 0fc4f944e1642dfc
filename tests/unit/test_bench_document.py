"""docs/benchmarks.md is rewritten by every run, except the notes written by hand below it."""

from __future__ import annotations

from pathlib import Path

from bench.document import NOTES, kept_notes, render, write
from bench.figures import Figure, Target

MACHINE = {
    "date": "2026-12-03T08:00:00+08:00",
    "commit": "abc1234",
    "cpu": "AMD EPYC",
    "cpus": 2,
    "memory_gb": 23.5,
    "os": "Linux 6.1",
    "python": "3.11.7",
    "postgresql": "15.20",
    "redis": "7.0.15",
    "load_average_at_start": [0.5, 0.4, 0.3],
}


def test_the_hand_written_notes_survive_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    notes = f"{NOTES}\n\n## Scale\n\nAt 1M cases the grid query was 137 ms before.\n"
    path.write_text("# Benchmarks\n\nold figures\n\n" + notes)
    write(path, "# Benchmarks\n\nnew figures")
    assert path.read_text() == "# Benchmarks\n\nnew figures\n\n" + notes


def test_a_new_file_ends_with_an_empty_notes_section(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "benchmarks.md"
    write(path, "# Benchmarks")
    assert path.read_text() == f"# Benchmarks\n\n{NOTES}\n"


def test_a_file_the_bench_did_not_write_is_kept_as_notes() -> None:
    assert kept_notes("hand-written\n") == f"{NOTES}\n\nhand-written\n"


def test_rewriting_twice_keeps_the_notes_once(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    write(path, "first")
    path.write_text(path.read_text() + "a note\n")
    write(path, "second")
    write(path, "third")
    assert path.read_text() == f"third\n\n{NOTES}\na note\n"


def test_the_document_names_the_machine_and_holds_the_table() -> None:
    figures = [Figure("event append, 8 writers", "events/s", 900, 1800, Target("ratio", "≥", 0.5))]
    text = render(MACHINE, "quick sizes", figures, {"append": {"error": "Traceback: boom"}})
    assert "commit abc1234" in text
    assert "- CPU: AMD EPYC × 2" in text
    assert "PostgreSQL 15.20" in text and "Redis 7.0.15" in text and "Python 3.11.7" in text
    assert "| event append, 8 writers | 900 events/s |" in text
    assert "### Event append" in text and "Traceback: boom" in text
    assert NOTES not in text  # ``write`` adds the notes
