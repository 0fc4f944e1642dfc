"""The catalogue format of DESIGN.md §3 as pydantic models.

Field-level rules live here (shapes, units, time formats); rules that relate one part of the
catalogue to another (unknown codes, duplicates) live in ``consistency``. Every model forbids
unknown keys so that a typo such as ``assit:`` is reported instead of silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dispatch.catalogue.delivery import Delivery
from dispatch.catalogue.durations import DurationField
from dispatch.catalogue.patrol import PatrolSetting

T = TypeVar("T")

STREET_OFFICE = "@street"
URGENCIES = ("normal", "urgent", "emergency")
DEFAULT_WORK_HOURS = (("09:00", "12:00"), ("13:30", "18:00"))

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Calendar(Strict):
    holidays: Literal["chinese-calendar"] = "chinese-calendar"
    extra_holidays: list[date] = []
    extra_workdays: list[date] = []
    # Local office hours of a working day, used by ``wh`` durations and as the close of day
    # for ``wd`` deadlines. The default is the usual government schedule with a lunch break.
    work_hours: list[tuple[str, str]] = list(DEFAULT_WORK_HOURS)

    @field_validator("work_hours")
    @classmethod
    def _periods_in_order(cls, periods: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if not periods:
            raise ValueError("give at least one working period, e.g. [['09:00', '18:00']]")
        previous_end = -1
        for start, end in periods:
            for clock in (start, end):
                if not _CLOCK.match(clock):
                    raise ValueError(f"{clock!r} is not a time of day; write HH:MM, e.g. '09:00'")
            if minutes_of(start) >= minutes_of(end):
                raise ValueError(f"period {start}–{end} ends before it starts")
            if minutes_of(start) < previous_end:
                raise ValueError(f"period {start}–{end} overlaps or precedes the one before it")
            previous_end = minutes_of(end)
        return periods

    @field_validator("extra_workdays")
    @classmethod
    def _no_day_both_ways(cls, workdays: list[date], info: ValidationInfo) -> list[date]:
        both = sorted(set(workdays) & set(info.data.get("extra_holidays", [])))
        if both:
            days = ", ".join(day.isoformat() for day in both)
            raise ValueError(f"{days} also listed in extra_holidays; a day is one or the other")
        return workdays


class Street(Strict):
    code: Code
    name: Name
    office: Code


class Department(Strict):
    code: Code
    name: Name
    delivery: Delivery = Delivery()


LonLat = tuple[float, float]


class Grid(Strict):
    code: Code
    name: Name
    street: Code
    community: str | None = None
    polygon: list[LonLat] | None = None

    @field_validator("polygon")
    @classmethod
    def _closed_ring(cls, ring: list[LonLat] | None) -> list[LonLat] | None:
        if ring is None:
            return None
        if len(ring) < 4:
            raise ValueError(
                f"a polygon ring needs at least 4 points (a triangle plus the closing point), "
                f"got {len(ring)}"
            )
        for lon, lat in ring:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"[{lon}, {lat}] is not a [lon, lat] point")
        if ring[0] != ring[-1]:
            raise ValueError(
                f"the ring does not close: first point {list(ring[0])} != last point "
                f"{list(ring[-1])}; repeat the first point at the end"
            )
        return ring


AttributeType = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
LIST_TYPES = ("singlevaluelist", "multivaluelist")


class AttributeValue(Strict):
    key: Code
    name: Name


class Attribute(Strict):
    """An extra question asked when the category is reported (Open311 service attributes)."""

    code: Code
    description: Name  # the question, shown to the citizen
    datatype: AttributeType = "string"
    required: bool = False
    datatype_description: str | None = None
    values: list[AttributeValue] = []

    @model_validator(mode="after")
    def _values_fit_type(self) -> Attribute:
        if self.datatype in LIST_TYPES and not self.values:
            raise ValueError(f"a {self.datatype} attribute needs values: [{{key, name}}, ...]")
        if self.datatype not in LIST_TYPES and self.values:
            raise ValueError(f"only list attributes take values, not a {self.datatype} one")
        keys = [value.key for value in self.values]
        if len(set(keys)) != len(keys):
            raise ValueError(f"attribute {self.code!r} repeats a value key")
        return self


class Category(Strict):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")]
    name: Name
    sla: Code
    attributes: list[Attribute] = []  # optional questions; none by default
    # 影像证明: a reply (办结) needs a ``reply``-stage photo on the task first (DESIGN §8.6).
    reply_requires_photo: bool = False

    @field_validator("attributes")
    @classmethod
    def _unique_codes(cls, attributes: list[Attribute]) -> list[Attribute]:
        codes = [attribute.code for attribute in attributes]
        if len(set(codes)) != len(codes):
            raise ValueError("attribute codes must be unique within a category")
        return attributes


class Rule(Strict):
    """One routing rule; ``category``, ``street`` and ``grid`` accept ``*`` and ``?`` wildcards."""

    id: Code
    category: Annotated[str, Field(min_length=1, max_length=64)]
    street: str | None = None
    grid: str | None = None
    lead: str
    assist: list[str] = []


class SlaPolicy(Strict):
    sign: DurationField
    contact: DurationField
    reply: DurationField
    warn_at: Annotated[float, Field(gt=0, lt=1)] = 0.8
    max_extension: DurationField | None = None


class KpiWeightsSetting(Strict):
    response: Annotated[float, Field(ge=0)] = 30
    solve: Annotated[float, Field(ge=0)] = 35
    satisfaction: Annotated[float, Field(ge=0)] = 35
    # 双考核: the weight of the summoning streets' rating (street_rating); 0 leaves the score
    # as it was.
    street: Annotated[float, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _not_all_zero(self) -> KpiWeightsSetting:
        if self.response + self.solve + self.satisfaction <= 0:
            raise ValueError("at least one KPI weight must be positive")
        return self


class HotspotSetting(Strict):
    """主动治理: ``min_cases`` cases of one category in one grid within a window of
    ``window_days`` local days raise HotspotDetected (windows follow one another from
    1970-01-05, a Monday, so a 7-day window is a Monday-to-Sunday week)."""

    window_days: Annotated[int, Field(ge=1, le=92)] = 7
    min_cases: Annotated[int, Field(ge=2, le=10_000)] = 5


class Catalogue(Strict):
    version: Annotated[str, Field(min_length=1, max_length=64)]
    timezone: str = "Asia/Shanghai"
    calendar: Calendar = Calendar()
    streets: list[Street] = []
    departments: list[Department]
    grids: list[Grid] = []
    categories: list[Category]
    routing: list[Rule]
    sla: dict[Code, SlaPolicy]
    urgency_sla: dict[Literal["normal", "urgent", "emergency"], Code] = {}
    kpi: KpiWeightsSetting = KpiWeightsSetting()
    # No section: nothing is raised; GET /stats/hotspots still answers with the defaults.
    hotspots: HotspotSetting | None = None
    patrol: PatrolSetting = PatrolSetting()  # 三巡一查零报告 (dispatch.catalogue.patrol)

    # Derived lookups and prepared geometry, built once per catalogue object (see ``cached``).
    _cache: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _label_as_text(cls, value: object) -> object:
        # YAML reads `version: 2026.11` as a float; the label is text either way.
        return str(value) if isinstance(value, int | float) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone, e.g. Asia/Shanghai") from None
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """Return ``build()`` computed once for this catalogue (the catalogue is immutable).

        Two request threads racing here both build and one result wins: harmless, no lock.
        """
        if key not in self._cache:
            self._cache[key] = build()
        value: T = self._cache[key]
        return value

    def department(self, code: str) -> Department | None:
        return self.cached("departments", lambda: {d.code: d for d in self.departments}).get(code)

    def delivery_of(self, code: str) -> Delivery:
        """The department's channel; the built-in inbox for one no longer in the catalogue
        (its tasks were dispatched under an earlier version)."""
        found = self.department(code)
        return found.delivery if found is not None else Delivery(type="inbox")

    def street(self, code: str) -> Street | None:
        return self.cached("streets", lambda: {s.code: s for s in self.streets}).get(code)

    def grid(self, code: str) -> Grid | None:
        return self.cached("grids", lambda: {g.code: g for g in self.grids}).get(code)

    def category(self, code: str) -> Category | None:
        return self.cached("categories", lambda: {c.code: c for c in self.categories}).get(code)
