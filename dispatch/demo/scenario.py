"""The demo's randomness, with no I/O: when complaints arrive, what they are about, where,
from whom, and how long each department takes over each step.

Every function takes a seeded ``random.Random``, so one seed gives one history. The shape of
the month follows a 12345 centre's: fewer calls on rest days and at night, peaks mid-morning
and mid-afternoon, utilities quick, enforcement and housing slower and more often late.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatch.catalogue import Catalogue, Grid, work_calendar
from dispatch.demo import texts
from dispatch.handlers import Complaint

# Relative call volumes per category (a month of a district's hotline).
CATEGORY_WEIGHTS: dict[str, float] = {
    "water.outage": 6, "water.pressure": 2, "water.leak": 3, "water.quality": 1.5,
    "gas.smell": 1, "gas.supply": 1.5, "gas.billing": 1.5, "power.outage": 5,
    "power.wiring": 1.5, "heat.cold": 9, "heat.leak": 2, "telecom.broadband": 3,
    "telecom.cable": 1, "bus.service": 2, "bus.stop": 1, "road.pothole": 4,
    "road.streetlight": 3, "road.manhole": 1.5, "road.drain": 1.5, "city.stall": 4,
    "city.noise": 6, "city.garbage": 4, "city.building": 2, "city.billboard": 1,
    "property.service": 6, "property.elevator": 3, "property.fund": 1,
    "housing.arrears": 1.5, "env.smoke": 3, "env.noise": 1.5, "env.river": 1,
    "traffic.parking": 4, "traffic.signal": 1, "market.food": 2, "market.price": 1.5,
    "market.prepaid": 2.5, "labor.wages": 3, "labor.insurance": 2, "green.tree": 1.5,
    "green.lawn": 1, "edu.enrolment": 1.5, "edu.tutoring": 1.5, "health.clinic": 1.5,
    "community.facility": 2, "other.consult": 6,
}  # fmt: skip
CHANNEL_WEIGHTS = {"phone": 70, "wechat": 10, "app": 8, "web": 5, "patrol": 5, "open311": 2}
# Questions the operator answers on the phone (直接答复) more often than not.
ANSWERABLE = frozenset({"other.consult", "labor.insurance", "edu.enrolment"})
SPOKEN = frozenset({"phone", "wechat", "web"})  # channels an operator answers on
# Share of each step a department does in time; the rest is late or close to it.
DILIGENCE: dict[str, float] = {
    "water": 0.95, "gas": 0.97, "power": 0.95, "heat": 0.85, "telecom": 0.88, "bus": 0.9,
    "roads": 0.88, "city": 0.78, "housing": 0.75, "envir": 0.86, "traffic": 0.9,
    "market": 0.88, "hrss": 0.86, "greening": 0.9, "education": 0.92, "health": 0.9,
    "qh-office": 0.84, "la-office": 0.9,
}  # fmt: skip
HOUR_WEIGHTS = (
    0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.5, 6, 9, 9, 8,
    5, 5, 8, 8.5, 8, 6.5, 4, 3.5, 3.5, 2.5, 1.5, 0.8,
)  # fmt: skip
REST_DAY_VOLUME = 0.55


@dataclass(frozen=True)
class Call:
    """One complaint as it reaches the centre, and what the story will do with it."""

    complaint: Complaint
    street: str | None  # where it is, when the map knows
    answer_directly: bool


def arrivals(
    rng: random.Random, catalogue: Catalogue, start: datetime, end: datetime, count: int
) -> list[datetime]:
    """``count`` intake times in ``[start, end)``, by day (rest days quieter) and hour."""
    zone = catalogue.zone
    calendar = work_calendar(catalogue)
    first = start.astimezone(zone).date()
    days = [first + timedelta(days=n) for n in range((end - start).days + 2)]
    volume = [1.0 if calendar.is_workday(day) else REST_DAY_VOLUME for day in days]
    times: list[datetime] = []
    while len(times) < count:
        day = rng.choices(days, weights=volume)[0]
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        local = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        moment = local + timedelta(seconds=rng.randrange(3600))
        if start <= moment < end:
            times.append(moment)
    return sorted(times)


def call(
    rng: random.Random,
    catalogue: Catalogue,
    *,
    grid_code: str | None = None,
    category: str | None = None,
) -> Call:
    """A complaint drawn by the dice; ``grid_code`` and ``category``, when given, are the
    story's (a hotspot's cases), and such a complaint is always placed on the map."""
    known = [code for code in CATEGORY_WEIGHTS if catalogue.category(code) is not None]
    drawn = rng.choices(known, weights=[CATEGORY_WEIGHTS[c] for c in known])[0]
    category = category or drawn
    channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()))[0]
    grid = rng.choice(catalogue.grids)
    chosen = catalogue.grid(grid_code) if grid_code else None
    grid = chosen or grid
    address = _address(rng, grid)
    lat: float | None
    lon: float | None
    lat, lon = _point_in(rng, grid)
    unplaced = rng.random() < 0.04 and chosen is None
    if channel not in ("patrol", "open311") and unplaced:
        lat = lon = None  # an address the operator could not place on the map
    anonymous = channel == "patrol" or rng.random() < 0.12
    template = rng.choice(texts.complaints_for(category))
    complaint = Complaint(
        channel=channel,
        category=category,
        description=template.format(addr=address),
        urgency="emergency" if category == "gas.smell" else _urgency(rng),
        address=address,
        lat=lat,
        lon=lon,
        reporter_name=None if anonymous else _name(rng),
        reporter_phone=None if anonymous else _phone(rng),
    )
    return Call(
        complaint=complaint,
        street=grid.street if lat is not None else None,
        answer_directly=category in ANSWERABLE and channel in SPOKEN and rng.random() < 0.7,
    )


def step_time(rng: random.Random, start: datetime, deadline: datetime, department: str) -> datetime:
    """When a department finishes a step it was given from ``start`` until ``deadline``:
    mostly well in time, sometimes near the line (yellow), sometimes late (red)."""
    allowed = max(deadline - start, timedelta(minutes=10))
    diligence = DILIGENCE.get(department, 0.88)
    draw = rng.random()
    if draw < diligence:
        share = rng.uniform(0.03, 0.65)
    elif draw < diligence + (1 - diligence) * 0.45:
        share = rng.uniform(0.8, 0.99)
    else:
        share = rng.uniform(1.05, 2.6)
    return start + allowed * share + timedelta(seconds=rng.randrange(60, 600))


def _urgency(rng: random.Random) -> str:
    return "urgent" if rng.random() < 0.04 else "normal"


def _point_in(rng: random.Random, grid: Grid) -> tuple[float, float]:
    """A point well inside the grid. The demo's grids are four-sided blocks (corners in the
    order south-west, south-east, north-east, north-west): two draws across and up, mapped
    bilinearly onto the block, land inside it; any other shape uses its bounding box."""
    ring = grid.polygon or [(0.0, 0.0)]
    across, up = rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)
    if len(ring) == 5:
        weights = ((1 - across) * (1 - up), across * (1 - up), across * up, (1 - across) * up)
        lon = sum(weight * corner[0] for weight, corner in zip(weights, ring, strict=False))
        lat = sum(weight * corner[1] for weight, corner in zip(weights, ring, strict=False))
        return round(lat, 6), round(lon, 6)
    west, east = min(p[0] for p in ring), max(p[0] for p in ring)
    south, north = min(p[1] for p in ring), max(p[1] for p in ring)
    return round(south + (north - south) * up, 6), round(west + (east - west) * across, 6)


def _address(rng: random.Random, grid: Grid) -> str:
    road = rng.choice(texts.ROADS.get(grid.street, ("人民路",)))
    if rng.random() < 0.5:
        estate = rng.choice(texts.ESTATES)
        return f"{grid.community or ''}{estate}{rng.randint(1, 30)}号楼{rng.randint(1, 4)}单元"
    return f"{road}{rng.randint(1, 300)}号"


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(texts.GIVEN) for _ in range(rng.choice((1, 2))))
    return rng.choice(texts.SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
