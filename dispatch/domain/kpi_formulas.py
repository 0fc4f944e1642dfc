"""The KPI formulas of DESIGN.md §3 (三率 and the ranking score), as pure functions of counts.

``dispatch.queries.kpis`` counts facts in SQL; everything below turns counts into rates, so
the formulas sit in one place and can be checked by hand. A rate is a fraction 0–1, or
``None`` when its denominator is 0 (nothing to judge yet is not the same as 0 %).

What is counted (the SQL side follows these rules):
- a task is *due* for a step once the step is done or its deadline has passed, relative to
  ``as_of`` (or now); a task inside its time limit neither helps nor hurts. A task returned
  or cancelled is due only for the steps whose deadline passed before it left the department;
- tasks are counted in the period they were dispatched, cases in the period they were received;
- merged (duplicate) and answered (直接答复) cases are left out of everything;
- parked (挂账) cases are left out of 办结率 and of the three timeliness rates while they are
  parked (as of the time asked); their tasks still count as dispatched and returned;
- per department, a case's outcome (closure, callback, reopening) belongs to its current lead
  (主办) task: the latest lead dispatch that was not returned or cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class KpiWeights:
    """Weights of the score and of the callback verdicts; the catalogue's ``kpi`` overrides."""

    response: float = 30
    solve: float = 35
    satisfaction: float = 35
    # 双考核: the summoning streets' rating (street_rating); 0 keeps the score of 三率 alone.
    street: float = 0
    # 解决率 counts a partly solved case as half solved.
    solve_levels: Mapping[str, float] = field(
        default_factory=lambda: {"solved": 1.0, "partly": 0.5, "unsolved": 0.0}
    )
    # 满意率 counts "basic" (基本满意) as satisfied, unless the catalogue weighs it lower.
    satisfaction_levels: Mapping[str, float] = field(
        default_factory=lambda: {"satisfied": 1.0, "basic": 1.0, "unsatisfied": 0.0}
    )


DEFAULT_WEIGHTS = KpiWeights()


def weights_from_catalogue(catalogue: object | None) -> KpiWeights:
    """The catalogue's optional ``kpi`` section, read defensively: anything odd is ignored."""
    section = getattr(catalogue, "kpi", None)
    if section is None:
        return DEFAULT_WEIGHTS
    values: dict[str, Any] = {}
    for name in ("response", "solve", "satisfaction", "street"):
        value = _number(getattr(section, name, None))
        if value is not None and value >= 0:
            values[name] = value
    for name in ("solve_levels", "satisfaction_levels"):
        given = getattr(section, name, None)
        if isinstance(given, Mapping):
            levels = dict(getattr(DEFAULT_WEIGHTS, name))
            levels.update(
                {k: v for k, v in given.items() if k in levels and _number(v) is not None}
            )
            values[name] = levels
    weights = KpiWeights(**values)
    if weights.response + weights.solve + weights.satisfaction <= 0:
        return DEFAULT_WEIGHTS
    return weights


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class KpiCounts:
    """The facts of one group (a department, category, grid, street or day) in one period."""

    dispatched: int = 0  # tasks dispatched
    due_sign: int = 0
    signed_on_time: int = 0
    due_contact: int = 0
    responded_on_time: int = 0
    due_reply: int = 0
    replied_on_time: int = 0
    returned: int = 0
    received: int = 0  # cases received (per department: cases it leads)
    parked: int = 0  # of those, parked (挂账) now: out of the closure denominator
    closed: int = 0  # closed now (a reopened case is not)
    ever_closed: int = 0
    reopened: int = 0
    rated: int = 0  # callbacks with a verdict on satisfaction (参评)
    solved: int = 0
    partly: int = 0
    unsolved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    evaluated: int = 0  # summoned tasks the summoning street rated (双考核)
    street_satisfied: int = 0
    street_basic: int = 0
    street_unsatisfied: int = 0

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> KpiCounts:
        return cls(**{f.name: int(values.get(f.name) or 0) for f in fields(cls)})


def rate(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def sign_rate(c: KpiCounts) -> float | None:
    """签收率 = tasks signed by ``sign_by`` / tasks due for signing."""
    return rate(c.signed_on_time, c.due_sign)


def response_rate(c: KpiCounts) -> float | None:
    """响应率 = tasks signed by ``sign_by`` and contacted by ``contact_by`` / tasks due for contact.

    A task signed late cannot respond on time, however soon it then calls the citizen.
    """
    return rate(c.responded_on_time, c.due_contact)


def on_time_rate(c: KpiCounts) -> float | None:
    """按时办结率 = tasks replied by ``reply_by`` / tasks due for reply.

    ``reply_by`` is the deadline after approved extensions (延期): an approved extension is
    not a late reply.
    """
    return rate(c.replied_on_time, c.due_reply)


def closure_rate(c: KpiCounts) -> float | None:
    """办结率 = cases closed / cases received, parked cases (挂账) left out while parked."""
    return rate(c.closed, c.received - c.parked)


def solve_rate(c: KpiCounts, w: KpiWeights = DEFAULT_WEIGHTS) -> float | None:
    """解决率 = (solved + ½·partly) / callbacks rated (weights in ``w.solve_levels``)."""
    levels = w.solve_levels
    points = (
        c.solved * levels["solved"] + c.partly * levels["partly"] + c.unsolved * levels["unsolved"]
    )
    return rate(points, c.rated)


def satisfaction_rate(c: KpiCounts, w: KpiWeights = DEFAULT_WEIGHTS) -> float | None:
    """满意率 = (satisfied + basic) / callbacks rated (weights in ``w.satisfaction_levels``)."""
    levels = w.satisfaction_levels
    points = (
        c.satisfied * levels["satisfied"]
        + c.basic * levels["basic"]
        + c.unsatisfied * levels["unsatisfied"]
    )
    return rate(points, c.rated)


def street_rating(c: KpiCounts, w: KpiWeights = DEFAULT_WEIGHTS) -> float | None:
    """双考核 = (satisfied + basic) / summoned tasks the street rated, with the same levels as
    满意率 (``w.satisfaction_levels``)."""
    levels = w.satisfaction_levels
    points = (
        c.street_satisfied * levels["satisfied"]
        + c.street_basic * levels["basic"]
        + c.street_unsatisfied * levels["unsatisfied"]
    )
    return rate(points, c.evaluated)


def return_rate(c: KpiCounts) -> float | None:
    """回退率 = tasks returned (return approved) / tasks dispatched."""
    return rate(c.returned, c.dispatched)


def reopen_rate(c: KpiCounts) -> float | None:
    """重办率 = cases reopened / cases closed (at least once)."""
    return rate(c.reopened, c.ever_closed)


def score(
    response: float | None,
    solve: float | None,
    satisfaction: float | None,
    w: KpiWeights = DEFAULT_WEIGHTS,
    street: float | None = None,
) -> float | None:
    """The ranking score on a 0–100 scale: 100 · Σ wᵢ·rateᵢ / Σ wᵢ over the defined rates.

    With the default weights 30 / 35 / 35 this is exactly the weighted sum 30·响应 + 35·解决 +
    35·满意. A rate with no denominator drops out with its weight rather than counting as 0;
    with no defined rate at all the score is ``None`` (unranked). The streets' rating
    (双考核, ``street``) counts only with a positive ``w.street`` (0 by default).
    """
    parts = [
        (w.response, response),
        (w.solve, solve),
        (w.satisfaction, satisfaction),
        (w.street, street),
    ]
    defined = [(weight, value) for weight, value in parts if value is not None and weight > 0]
    total = sum(weight for weight, _ in defined)
    if total == 0:
        return None
    return round(100 * sum(weight * value for weight, value in defined) / total, 4)


def kpi_row(key: object, c: KpiCounts, w: KpiWeights = DEFAULT_WEIGHTS) -> dict[str, Any]:
    """The KPI row of DESIGN.md §4, with the underlying counts beside the rates."""
    response = response_rate(c)
    solve = solve_rate(c, w)
    satisfaction = satisfaction_rate(c, w)
    rating = street_rating(c, w)
    return {
        "key": key,
        "dispatched": c.dispatched,
        "signed_on_time": c.signed_on_time,
        "responded_on_time": c.responded_on_time,
        "replied_on_time": c.replied_on_time,
        "closed": c.closed,
        "rated": c.rated,
        "sign_rate": sign_rate(c),
        "response_rate": response,
        "on_time_rate": on_time_rate(c),
        "closure_rate": closure_rate(c),
        "solve_rate": solve,
        "satisfaction_rate": satisfaction,
        "return_rate": return_rate(c),
        "reopen_rate": reopen_rate(c),
        "evaluated": c.evaluated,
        "street_rating": rating,
        "score": score(response, solve, satisfaction, w, rating),
        "counts": {f.name: getattr(c, f.name) for f in fields(c)},
    }
