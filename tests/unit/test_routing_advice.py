"""The routing advice a dispatcher reads: one line of plain Chinese, no codes, and the
catalogue's departments for the category, never one that returned the case."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dispatch.catalogue import Catalogue, parse_catalogue, routing_advice

SAMPLE = Path(__file__).parents[2] / "dispatch" / "catalogue" / "samples" / "sample.yaml"
CODE = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return parse_catalogue(SAMPLE.read_text(encoding="utf-8"))


def test_a_routable_case_is_explained_with_department_and_place_names(
    catalogue: Catalogue,
) -> None:
    advice = routing_advice(catalogue, category="road.pothole", location={"grid": "XYL-02"})
    assert advice.line.startswith("「道路坑洼」在西一路街道")
    assert "区市政设施管理中心主办" in advice.line and "西一路街道办事处协办" in advice.line
    assert not CODE.search(advice.line), advice.line
    assert advice.suggested[:2] == ("roads", "xyl-office")
    assert advice.lead == "roads"


def test_a_case_without_a_street_says_so_and_offers_every_street_office(
    catalogue: Catalogue,
) -> None:
    advice = routing_advice(catalogue, category="other.consult", location={})
    assert advice.line == (
        "本案未定位到网格或街道，适用于「其他咨询求助」的规则要按所在街道派单，请人工派单。"
    )
    assert advice.lead is None
    assert set(advice.suggested) == {"xyl-office", "clz-office"}


def test_the_department_that_returned_the_case_is_never_suggested_nor_the_lead(
    catalogue: Catalogue,
) -> None:
    advice = routing_advice(
        catalogue, category="env.smoke", location={"grid": "XYL-01"}, exclude={"envir"}
    )
    assert advice.lead is None
    assert "envir" not in advice.suggested
    assert advice.suggested == ("xyl-office",)  # the street's own office, the catch-all rule
    assert advice.line.endswith("已退回本案：请另选主办单位。"), advice.line


def test_an_unknown_category_asks_for_a_department_without_showing_its_code(
    catalogue: Catalogue,
) -> None:
    advice = routing_advice(catalogue, category="no.such", location={"grid": "XYL-01"})
    assert advice.line == "本案的诉求类别不在当前目录中，请人工选择承办单位。"
    assert advice.suggested == ("xyl-office",)  # the catch-all rule still names the street
