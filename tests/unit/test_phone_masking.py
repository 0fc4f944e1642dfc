"""Phone numbers in free text are masked in every form a caller writes them."""

from __future__ import annotations

import re

import pytest

from dispatch.queries.masking import mask_phones

FORMS = [
    ("+8613800138000", "138****8000"),
    ("+86 138 0013 8000", "138****8000"),
    ("0086-138-0013-8000", "138****8000"),
    ("(+86) 13800138000", "138****8000"),
    ("138-0013-8000", "138****8000"),
    ("138 0013 8000", "138****8000"),
    ("13800138000", "138****8000"),
    ("１３８００１３８０００", "138****8000"),
    ("010-12345678", "010****5678"),
    ("01012345678", "010****5678"),
    ("(0571) 8765 4321", "057****4321"),
    ("0571-8765432", "057****5432"),
]


@pytest.mark.parametrize(("number", "masked"), FORMS)
def test_a_phone_number_in_any_form_is_masked(number: str, masked: str) -> None:
    text = f"请联系我，电话{number}，谢谢"
    assert mask_phones(text) == f"请联系我，电话{masked}，谢谢"


@pytest.mark.parametrize(("number", "_masked"), FORMS)
def test_no_run_of_the_numbers_middle_digits_survives(number: str, _masked: str) -> None:
    shown = mask_phones(f"call {number} now") or ""
    digits = re.sub(r"\D", "", number.translate(str.maketrans("１３８０", "1380")))
    middle = digits[-8:-4]
    assert middle not in re.sub(r"\D", "", shown)


@pytest.mark.parametrize(
    "text",
    [
        "工单 20261120-00012 已受理",
        "2026-11-20T07:30:00+08:00 开始停水",
        "坐标 108.952,34.27，门牌 12号",
        "",
    ],
)
def test_case_numbers_times_and_coordinates_are_left_alone(text: str) -> None:
    assert mask_phones(text) == text


def test_none_stays_none() -> None:
    assert mask_phones(None) is None
