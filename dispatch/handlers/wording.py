"""Refusals in words people read: the wording table filled from an error's facts (§8.3).

The API and the console both word a refusal here, in the request's language: department,
street and category codes become their catalogue names, a task becomes "the <department>
task", actions and states become words and dates local times. Internal ids (task ids,
stream ids) are facts for logs; no template has a place for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dispatch.catalogue import Catalogue
from dispatch.domain.case import DomainError
from dispatch.domain.wording import (
    ACTIONS,
    ALL_CODES,
    CASE,
    CASE_STATUSES,
    FIELD_SEPARATOR,
    LIST_SEPARATOR,
    NEXT_STEPS,
    NOTHING_NEXT,
    SOME_CASE,
    SOME_DEPARTMENT,
    SOME_STEP,
    TASK_OF,
    TASK_STATES,
    TITLES,
    Language,
    Words,
)
from dispatch.handlers.errors import ApplicationError, InvalidInput

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_LANGUAGE: Language = "zh"


@dataclass(frozen=True)
class Worded:
    """A refusal ready for a reader: its code, a title and the full sentence."""

    status: int
    code: str
    title: str
    detail: str
    allowed_next: list[str] | None = None


def language_of(accept_language: str | None) -> Language:
    """English when the most wanted language of an ``Accept-Language`` header is English,
    else Simplified Chinese (RFC 9110 §12.5.4: q-values; ``*`` and unknown tags → Chinese)."""
    best: tuple[float, int, Language] | None = None
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        quality = _quality(params)
        if quality <= 0:
            continue
        language: Language | None = (
            "en" if _primary(tag) == "en" else "zh" if _primary(tag) == "zh" else None
        )
        if language is None:
            continue
        # Highest q wins; among equals, the first listed.
        if best is None or quality > best[0]:
            best = (quality, index, language)
    return best[2] if best else DEFAULT_LANGUAGE


def _primary(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0]


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                return max(0.0, min(1.0, float(value.strip())))
            except ValueError:
                return 0.0
    return 1.0


def title_for(status: int, language: Language) -> str:
    words = TITLES.get(status) or TITLES[400 if status < 500 else 503]
    return words.in_(language)


def word(
    code: str,
    facts: Mapping[str, object],
    language: Language,
    catalogue: Catalogue | None = None,
    *,
    allowed_next: Sequence[str] | None = None,
) -> str:
    """The sentence for ``code`` with ``facts`` filled in; with ``allowed_next`` (a domain
    refusal), followed by the steps that are possible now, in words."""
    template = ALL_CODES.get(code) or ALL_CODES["not_allowed"]
    values = _values(facts, language, catalogue)
    try:
        text = template.in_(language).format_map(values)
    except (KeyError, IndexError, ValueError):
        # A fact the template wants is missing: say less rather than fail the answer.
        text = ALL_CODES["not_allowed"].in_(language).format_map(values)
    text = text[:1].upper() + text[1:]
    if allowed_next is None:
        return text
    return f"{text}{_space(language)}{_next_steps(allowed_next, language)}"


def word_error(
    error: DomainError | ApplicationError, language: Language, catalogue: Catalogue | None = None
) -> Worded:
    """A domain refusal (409, with the allowed next steps) or an application error, worded."""
    if isinstance(error, DomainError):
        allowed = list(error.allowed_next)
        detail = word(error.code, error.facts, language, catalogue, allowed_next=allowed)
        return Worded(409, error.code, title_for(409, language), detail, allowed)
    detail = word(error.code, error.facts, language, catalogue)
    if isinstance(error, InvalidInput) and error.field not in detail:
        detail = f"{error.field}{FIELD_SEPARATOR.in_(language)}{detail}"  # the field at fault
    return Worded(error.status, error.code, title_for(error.status, language), detail)


def _space(language: Language) -> str:
    return "" if language == "zh" else " "


def _next_steps(allowed: Sequence[str], language: Language) -> str:
    steps = [_action(a, language) for a in allowed if a in ACTIONS]
    if not steps:
        return NOTHING_NEXT.in_(language)
    return NEXT_STEPS.in_(language).format(allowed=LIST_SEPARATOR.in_(language).join(steps))


def _action(action: str, language: Language) -> str:
    return (ACTIONS.get(action) or SOME_STEP).in_(language)


def _values(
    facts: Mapping[str, object], language: Language, catalogue: Catalogue | None
) -> dict[str, str]:
    zone = catalogue.zone if catalogue is not None else DEFAULT_ZONE
    values: dict[str, str] = {"case": SOME_CASE.in_(language), "action": _action("", language)}
    for key, value in facts.items():
        if value is None:
            continue
        if key == "case_no":
            values["case"] = CASE.in_(language).format(case_no=value)
        elif key == "department":
            values[key] = _department(str(value), catalogue)
        elif key == "departments" and isinstance(value, list | tuple):
            names = [_department(str(code), catalogue) for code in value]
            values[key] = LIST_SEPARATOR.in_(language).join(names)
        elif key == "street":
            street = catalogue.street(str(value)) if catalogue is not None else None
            values[key] = street.name if street is not None else str(value)
        elif key == "grid":
            grid = catalogue.grid(str(value)) if catalogue is not None else None
            values[key] = grid.name if grid is not None else str(value)
        elif key == "category":
            category = catalogue.category(str(value)) if catalogue is not None else None
            values[key] = category.name if category is not None else str(value)
        elif key == "action":
            values[key] = _action(str(value), language)
        elif key == "status":
            values[key] = _state(CASE_STATUSES, str(value), language)
        elif key == "task_state":
            values[key] = _state(TASK_STATES, str(value), language)
        elif isinstance(value, datetime):
            values[key] = _local_time(value, zone, language)
        elif isinstance(value, date):
            values[key] = _local_date(value, language)
        elif key.endswith("_id"):
            continue  # internal: never shown
        else:
            values[key] = str(value)
    department = values.get("department", SOME_DEPARTMENT.in_(language))
    values["task"] = TASK_OF.in_(language).format(department=department)
    return values


def _department(code: str, catalogue: Catalogue | None) -> str:
    found = catalogue.department(code) if catalogue is not None else None
    return found.name if found is not None else code


def _state(table: Mapping[str, Words], value: str, language: Language) -> str:
    words = table.get(value)
    return words.in_(language) if words is not None else SOME_STEP.in_(language)


def _local_time(moment: datetime, zone: ZoneInfo, language: Language) -> str:
    local = moment.astimezone(zone) if moment.tzinfo is not None else moment
    if language == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"


def _local_date(day: date, language: Language) -> str:
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day:%b %Y}"
