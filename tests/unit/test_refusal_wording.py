"""Every refusal has a code and words in both languages, and the words leak nothing internal.

The codes are collected twice: from the wording table, and by reading the source of
``dispatch/domain`` and ``dispatch/handlers`` (``code=`` keywords, ``code = "…"`` on error
classes, the literals the ``*_refusal_code`` choosers return), so a new code raised without
an entry in ``dispatch/domain/wording.py`` fails here.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dispatch.domain import case_state
from dispatch.domain.case import DomainError
from dispatch.domain.wording import ACTIONS, ALL_CODES, LANGUAGES, Language
from dispatch.handlers import ApplicationError, CaseBusy, InvalidInput, StaleVersion
from dispatch.handlers.wording import language_of, word, word_error
from tests.fakes import sample_catalogue

ROOT = Path(__file__).parents[2]
SOURCES = [ROOT / "dispatch" / "domain", ROOT / "dispatch" / "handlers"]

TASK_ID = f"{uuid.uuid4().hex}-1"
SAMPLE_FACTS: dict[str, object] = {
    "case_no": "20261202-00092",
    "target_case_no": "20261202-00088",
    "task_id": TASK_ID,
    "whistle_id": "w_3f9c2a7b1e0d",
    "department": "roads",
    "departments": ["roads", "city"],
    "street": "XYL",
    "category": "road.pothole",
    "grid": "XYL-99",
    "round": "早巡",
    "role": "lead",
    "policy": "general",
    "action": "return/approve",
    "status": "in_progress",
    "task_state": "return_requested",
    "reply_by": datetime(2026, 12, 24, 9, 30, tzinfo=UTC),
    "earliest": datetime(2026, 12, 20, 1, 0, tzinfo=UTC),
    "latest": datetime(2026, 12, 31, 10, 0, tzinfo=UTC),
    "report_by": datetime(2026, 12, 2, 6, 0, tzinfo=UTC),
    "review_on": date(2027, 1, 15),
    "field": "location.grid",
    "problem": "不在目录中",
    "fields": "departments.0.code",
    "expected": 3,
    "actual": 4,
}
ALLOWED = sorted(a for a in ACTIONS if a not in case_state.INTERNAL_ACTIONS)

RAW_NAMES = {s.value for s in case_state.CaseStatus} | {s.value for s in case_state.TaskStatus}
RAW_ACTIONS = {a for a in ACTIONS if "/" in a}
CJK = re.compile(r"[\u4e00-\u9fff]")
HEX_ID = re.compile(r"(?=[0-9]*[a-f])[0-9a-f]{8,}")
REPR = re.compile(r"None|datetime\(|\[|\]|\{|\}|'[\w.-]*'|<[a-zA-Z]")


def _python_files() -> Iterator[Path]:
    for folder in SOURCES:
        yield from folder.glob("*.py")


def _strings_in(node: ast.expr) -> Iterator[str]:
    """The literal values ``node`` may take: a constant, or either branch of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings_in(node.body)
        yield from _strings_in(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings_in(value)


def codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "code":
                codes.update(_strings_in(node.value))
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if (
                        isinstance(item, ast.AnnAssign | ast.Assign)
                        and "code" in ast.unparse(item).split("=")[0]
                    ):
                        codes.update(_strings_in(item.value) if item.value else ())
            elif isinstance(node, ast.FunctionDef) and node.name.endswith("refusal_code"):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and ret.value is not None:
                        codes.update(_strings_in(ret.value))
    return codes


def error_classes(base: type[Exception]) -> Iterator[type[Exception]]:
    for sub in base.__subclasses__():
        yield sub
        yield from error_classes(sub)


def test_the_source_finds_the_codes_it_should() -> None:
    found = codes_in_source()
    assert {"task_not_signed", "department_already_holds_task", "photo_required", "busy"} <= found
    assert {"case_closed", "extension_too_long", "whistle_already_blown"} <= found


def test_every_code_raised_in_the_source_has_wording() -> None:
    missing = sorted(codes_in_source() - set(ALL_CODES))
    assert missing == [], "add these codes to dispatch/domain/wording.py"


def test_every_error_class_has_a_worded_code() -> None:
    classes = [DomainError, *error_classes(DomainError), *error_classes(ApplicationError)]
    assert len(classes) > 10
    for cls in classes:
        assert cls.code in ALL_CODES, cls


def test_every_domain_raise_names_its_rule() -> None:
    """A raise of a domain error in dispatch/domain passes ``code=`` unless its class has one."""
    coded = {cls.__name__ for cls in error_classes(DomainError) if "code" in vars(cls)}
    uncoded = []
    for path in (ROOT / "dispatch" / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            name = ast.unparse(node.exc.func)
            named = any(k.arg == "code" for k in node.exc.keywords)
            if name in {c.__name__ for c in error_classes(DomainError)} - coded and not named:
                uncoded.append(f"{path.name}:{node.lineno} {name}")
    assert uncoded == []


@pytest.mark.parametrize("code", sorted(set(ALL_CODES) | codes_in_source()))
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_code_reads_in_both_languages_without_internals(code: str, language: Language) -> None:
    text = word(code, SAMPLE_FACTS, language, sample_catalogue(), allowed_next=ALLOWED)

    assert text.strip()
    if code != "not_allowed":
        generic = word("not_allowed", SAMPLE_FACTS, language, sample_catalogue())
        assert not text.startswith(generic), f"{code}: a placeholder has no sample fact"
    if language == "zh":
        assert CJK.search(text), text
        assert not any(re.search(rf"\b{re.escape(n)}\b", text) for n in RAW_NAMES), text
    assert TASK_ID not in text and not HEX_ID.search(text), text
    assert not any(raw in text for raw in RAW_NAMES if "_" in raw), text
    assert not any(raw in text for raw in RAW_ACTIONS), text
    assert not REPR.search(text), text
    assert "w_3f9c2a7b1e0d" not in text


def test_departments_tasks_and_dates_are_named_in_words() -> None:
    catalogue = sample_catalogue()
    facts = {**SAMPLE_FACTS, "action": "reply", "task_state": "dispatched"}
    zh = word("task_not_signed", facts, "zh", catalogue, allowed_next=["return", "sign"])
    en = word("task_not_signed", facts, "en", catalogue, allowed_next=["return", "sign"])

    assert zh == (
        "工单 20261202-00092 的区市政设施管理中心的任务尚未签收，请先签收再办结。"
        "现在可以：退单、签收。"
    )
    assert en == (
        "On case 20261202-00092, the 区市政设施管理中心 task is not signed yet: sign it before "
        '"reply". Next you may: return, sign.'
    )
    late = word("extension_too_long", SAMPLE_FACTS, "zh", catalogue)
    assert "2026年12月24日 17:30" in late and "2026年12月31日 18:00" in late  # Asia/Shanghai


def test_a_refusal_with_nothing_left_to_do_says_so() -> None:
    assert word("case_merged", SAMPLE_FACTS, "zh", allowed_next=[]).endswith("已无可办理的操作。")


def test_a_missing_fact_words_the_refusal_generically_rather_than_failing() -> None:
    assert word("department_already_holds_task", {}, "zh") == "该工单当前不能办理这一操作。"
    english = word("department_already_holds_task", {}, "en")
    assert english == "The case does not allow this step now."


def test_application_errors_are_worded_with_their_status() -> None:
    busy = word_error(CaseBusy("c1", 7, 5, case_no="20261202-00092"), "zh")
    stale = word_error(StaleVersion(3, 4, case_no="20261202-00092"), "en")
    grid = word_error(
        InvalidInput("location.grid", "x", code="unknown_grid", facts={"grid": "XYL-99"}), "zh"
    )

    assert (busy.status, busy.code, busy.allowed_next) == (409, "busy", None)
    assert "20261202-00092" in busy.detail and "c1" not in busy.detail
    assert (stale.status, stale.code, stale.title) == (412, "stale_version", "The case has changed")
    assert (grid.status, grid.code) == (422, "unknown_grid")
    assert grid.detail == "location.grid：没有网格 XYL-99。"  # the field first


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh;q=0.5, en;q=0.8", "en"),
        ("en;q=0, zh", "zh"),
        ("fr-FR", "zh"),
        ("*", "zh"),
        ("en;q=abc", "zh"),
        ("EN-gb", "en"),
    ],
)
def test_accept_language_picks_english_only_when_english_is_preferred(
    header: str | None, language: str
) -> None:
    assert language_of(header) == language
