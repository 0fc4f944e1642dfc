"""A catalogue is refused with every problem named by field and line, or loads with warnings."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatch.catalogue import Catalogue, CatalogueError, advisories, parse_catalogue
from dispatch.catalogue.versions import STORED

SAMPLE = Path(__file__).parents[2] / "dispatch" / "catalogue" / "samples" / "sample.yaml"


def sample_data() -> dict[str, Any]:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


def problems_of(data: dict[str, Any] | str) -> dict[str, str]:
    text = data if isinstance(data, str) else json.dumps(data, default=str)
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text)
    return {problem.field: problem.message for problem in caught.value.problems}


def test_the_sample_catalogue_is_valid_as_yaml_and_as_json() -> None:
    from_yaml = parse_catalogue(SAMPLE.read_text(encoding="utf-8"))
    from_json = parse_catalogue(json.dumps(from_yaml.model_dump(mode="json")))
    assert from_json.model_dump() == from_yaml.model_dump()
    assert len(from_yaml.grids) == 6 and len(from_yaml.categories) >= 10
    assert str(from_yaml.sla["general"].max_extension) == "15wd"


def test_a_rule_naming_an_unknown_department_is_refused_but_at_street_is_allowed() -> None:
    data = sample_data()
    data["routing"][0]["lead"] = "waterworks"
    data["routing"][3]["assist"] = ["@street", "nobody"]
    found = problems_of(data)
    assert "unknown department 'waterworks'" in found["routing.0.lead"]
    assert "unknown department 'nobody'" in found["routing.3.assist.1"]
    assert "routing.3.assist.0" not in found


@pytest.mark.parametrize(
    ("section", "index", "key"),
    [
        ("departments", 1, "code"),
        ("grids", 1, "code"),
        ("streets", 1, "code"),
        ("routing", 1, "id"),
    ],
)
def test_duplicate_codes_are_refused(section: str, index: int, key: str) -> None:
    data = sample_data()
    data[section][index][key] = data[section][0][key]
    found = problems_of(data)
    assert "duplicate" in found[f"{section}.{index}.{key}"]


def test_a_grid_on_an_unknown_street_is_refused() -> None:
    data = sample_data()
    data["grids"][2]["street"] = "XXL"
    assert "unknown street 'XXL'" in problems_of(data)["grids.2.street"]


def test_a_category_or_urgency_with_an_unknown_sla_policy_is_refused() -> None:
    data = sample_data()
    data["categories"][0]["sla"] = "relaxed"
    data["urgency_sla"] = {"emergency": "panic"}
    found = problems_of(data)
    assert "unknown SLA policy 'relaxed'" in found["categories.0.sla"]
    assert "unknown SLA policy 'panic'" in found["urgency_sla.emergency"]


@pytest.mark.parametrize("duration", ["7d", "2 days", "0h", "-1h", "1.5h", "wd", "24", ""])
def test_bad_durations_are_refused(duration: str) -> None:
    data = sample_data()
    data["sla"]["general"]["reply"] = duration
    assert "sla.general.reply" in problems_of(data)


@pytest.mark.parametrize("duration", ["30m", "24h", "4wh", "2wd"])
def test_each_duration_unit_is_accepted(duration: str) -> None:
    data = sample_data()
    data["sla"]["general"]["contact"] = duration
    assert str(parse_catalogue(json.dumps(data)).sla["general"].contact) == duration


@pytest.mark.parametrize(
    ("polygon", "complaint"),
    [
        ([[108.95, 34.27], [108.96, 34.27], [108.96, 34.28], [108.95, 34.28]], "does not close"),
        ([[108.95, 34.27], [108.96, 34.27], [108.95, 34.27]], "at least 4 points"),
        ([[34.27, 108.95], [34.27, 108.96], [34.28, 108.96], [34.27, 108.95]], "[lon, lat]"),
        (
            [[108.95, 34.27], [108.96, 34.28], [108.96, 34.27], [108.95, 34.28], [108.95, 34.27]],
            "Self-intersection",
        ),
    ],
)
def test_polygons_must_be_closed_simple_lon_lat_rings(polygon: list, complaint: str) -> None:
    data = sample_data()
    data["grids"][0]["polygon"] = polygon
    assert complaint in problems_of(data)["grids.0.polygon"]


def test_a_webhook_needs_a_url() -> None:
    data = sample_data()
    data["departments"][4]["delivery"] = {"type": "webhook", "secret": "s"}
    assert "needs a url" in problems_of(data)["departments.4.delivery"]


LONG_SECRET = "x" * 32


def test_a_webhook_needs_a_secret_of_32_characters() -> None:
    data = sample_data()
    url = "https://city.example.gov.cn/12345"
    data["departments"][4]["delivery"] = {"type": "webhook", "url": url, "secret": "x" * 31}
    assert "at least 32 characters" in problems_of(data)["departments.4.delivery"]
    data["departments"][4]["delivery"] = {"type": "webhook", "url": url}
    assert "at least 32 characters" in problems_of(data)["departments.4.delivery"]
    data["departments"][4]["delivery"]["secret"] = LONG_SECRET
    assert parse_catalogue(json.dumps(data, default=str)).departments[4].delivery.secret


def test_a_webhook_speaks_https_unless_http_is_allowed_explicitly() -> None:
    data = sample_data()
    plain = {"type": "webhook", "url": "http://10.0.0.5/12345", "secret": LONG_SECRET}
    data["departments"][4]["delivery"] = plain
    assert "allow_http: true" in problems_of(data)["departments.4.delivery"]
    data["departments"][4]["delivery"] = {**plain, "allow_http": True}
    assert parse_catalogue(json.dumps(data, default=str)).departments[4].delivery.allow_http
    data["departments"][4]["delivery"] = {**plain, "url": "ftp://10.0.0.5/x", "allow_http": True}
    assert "https://" in problems_of(data)["departments.4.delivery"]


def test_a_stored_catalogue_loaded_under_older_rules_still_reads() -> None:
    data = sample_data()
    old = {"type": "webhook", "url": "http://10.0.0.5/12345", "secret": "short"}
    data["departments"][4]["delivery"] = old
    catalogue = Catalogue.model_validate(data, context=STORED)
    assert catalogue.departments[4].delivery.secret == "short"


def test_a_misspelt_field_is_refused_rather_than_ignored() -> None:
    data = sample_data()
    data["routing"][3]["assit"] = data["routing"][3].pop("assist")
    assert "unknown field" in problems_of(data)["routing.3.assit"]


def test_every_problem_is_listed_at_once_with_its_yaml_line() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace("lead: water}", "lead: waterworks}").replace("reply: 7wd", "reply: 7d")
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(text)
    lines = text.splitlines()
    by_field = {problem.field: problem for problem in caught.value.problems}
    assert set(by_field) == {"routing.0.lead", "sla.general.reply"}
    assert "waterworks" in lines[by_field["routing.0.lead"].line - 1]
    assert "7d" in lines[by_field["sla.general.reply"].line - 1]
    message = str(caught.value)
    assert "2 problems" in message and "routing.0.lead (line" in message


def test_a_key_given_twice_in_yaml_is_refused() -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace(
        "timezone: Asia/Shanghai", "timezone: Asia/Shanghai\ntimezone: Asia/Urumqi"
    )
    assert "given twice" in problems_of(text)["timezone"]


def test_yaml_reads_codes_and_times_as_text() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace(
        '[["09:00", "12:00"], ["13:30", "18:00"]]', "[[09:00, 12:00], [13:30, 18:00]]"
    )
    text = text.replace("{code: XYL,", "{code: NO,").replace("street: XYL", "street: NO")
    catalogue = parse_catalogue(text)
    assert catalogue.calendar.work_hours[1] == ("13:30", "18:00")
    assert catalogue.street("NO") is not None


@pytest.mark.parametrize(
    ("text", "field"),
    [("version: [unclosed", "(syntax)"), ("- just\n- a list\n", "(top)"), ("", "(top)")],
)
def test_text_that_is_not_a_catalogue_is_refused(text: str, field: str) -> None:
    assert field in problems_of(text)


def test_calendar_settings_are_checked() -> None:
    data = sample_data()
    data["timezone"] = "Mars/Olympus"
    data["calendar"]["extra_holidays"] = ["2027-01-01"]
    data["calendar"]["extra_workdays"] = ["2027-01-01"]
    data["calendar"]["work_hours"] = [["13:30", "18:00"], ["09:00", "12:00"]]
    found = problems_of(data)
    assert "IANA time zone" in found["timezone"]
    assert "also listed in extra_holidays" in found["calendar.extra_workdays"]
    assert "overlaps or precedes" in found["calendar.work_hours"]


def test_years_chinese_calendar_does_not_know_are_warned_about_unless_overridden() -> None:
    catalogue = parse_catalogue(SAMPLE.read_text(encoding="utf-8"))
    warnings = advisories(catalogue, today=date(2026, 11, 22))
    assert len(warnings) == 1 and "2027" in warnings[0]
    assert advisories(catalogue, today=date(2025, 3, 1)) == []
    data = sample_data()
    data["calendar"]["extra_holidays"] = ["2027-01-01", "2027-02-06"]
    assert advisories(parse_catalogue(json.dumps(data)), today=date(2026, 11, 22)) == []


def test_rules_that_can_never_match_and_unrouted_categories_are_warned_about() -> None:
    data = sample_data()
    data["routing"] = [r for r in data["routing"] if r["id"] != "R-any"]
    data["routing"].append({"id": "R-typo", "category": "raod.*", "lead": "roads"})
    warnings = advisories(parse_catalogue(json.dumps(data)), today=date(2025, 3, 1))
    assert any("'R-typo'" in warning for warning in warnings)
    assert any("other.consult" in warning and "dispatcher" in warning for warning in warnings)


def test_nested_aliases_and_deep_nesting_are_refused_not_expanded() -> None:
    lines = ['l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert "nested aliases" in problems_of("\n".join(lines))["(syntax)"]
    assert "nested too deeply" in problems_of("[" * 50_000)["(syntax)"]
