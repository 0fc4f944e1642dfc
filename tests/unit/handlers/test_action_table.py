"""The action table is DESIGN.md §4's list of commands, and the console can say each one's
outcome in Chinese."""

from __future__ import annotations

from babel.messages.pofile import read_po

from dispatch.console import i18n
from dispatch.handlers import CASE_ACTIONS, TASK_ACTIONS


def test_every_command_of_the_design_is_in_the_table_once() -> None:
    assert set(CASE_ACTIONS) == {
        "dispatch",
        "whistle",
        "answer",
        "callback",
        "reopen",
        "park",
        "unpark",
        "merge",
        "close",
        "urge",
        "recall",  # §8.2
    }
    assert set(TASK_ACTIONS) == {
        "sign",
        "return",
        "contact",
        "extension",
        "progress",
        "reply",
        "return/approve",
        "return/reject",
        "extension/approve",
        "extension/deny",
        "evaluation",  # §8.7 双考核
    }


def test_liaisons_act_on_their_tasks_and_dispatchers_rule() -> None:
    for path, action in TASK_ACTIONS.items():
        if path == "evaluation":
            assert action.roles == ("street",)  # the summoning street rates (双考核)
            assert not action.own_department
            continue
        ruling = path.endswith(("/approve", "/reject", "/deny"))
        assert action.roles == (("dispatcher",) if ruling else ("liaison",)), path
        assert action.own_department is not ruling


def test_every_action_has_a_chinese_summary_and_a_translated_outcome() -> None:
    path = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        chinese = {m.id: m.string for m in read_po(source) if m.id}
    for action in (*CASE_ACTIONS.values(), *TASK_ACTIONS.values()):
        assert any("\u4e00" <= char <= "\u9fff" for char in action.summary), action.path
        assert chinese.get(action.done), action.done
        assert set(action.fields) <= set(action.body.model_fields), action.path
