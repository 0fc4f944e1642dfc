"""The catalogue: departments, streets, grids, categories, routing rules and SLA policies.

Pure functions over a validated, immutable ``Catalogue``; storing versions is ``versions``.
"""

from dispatch.catalogue.consistency import advisories
from dispatch.catalogue.delivery import DELIVERY_TYPES, Delivery
from dispatch.catalogue.durations import Duration, parse_duration
from dispatch.catalogue.model import (
    STREET_OFFICE,
    URGENCIES,
    Calendar,
    Catalogue,
    Category,
    Department,
    Grid,
    KpiWeightsSetting,
    Rule,
    SlaPolicy,
    Street,
)
from dispatch.catalogue.parser import CatalogueError, CatalogueProblem, parse_catalogue
from dispatch.catalogue.patrol import PatrolRound, PatrolSetting
from dispatch.catalogue.routing import (
    CandidateRule,
    Placement,
    RoutingDecision,
    explain,
    locate,
    place,
    route,
)
from dispatch.catalogue.routing_advice import RoutingAdvice, routing_advice
from dispatch.catalogue.sla import (
    DueTimes,
    UnknownCategory,
    deadlines_for,
    policy_for,
    warning_time,
    work_calendar,
)
from dispatch.catalogue.workcalendar import WorkCalendar

__all__ = [
    "DELIVERY_TYPES",
    "STREET_OFFICE",
    "URGENCIES",
    "Calendar",
    "CandidateRule",
    "Catalogue",
    "CatalogueError",
    "CatalogueProblem",
    "Category",
    "Delivery",
    "Department",
    "DueTimes",
    "Duration",
    "Grid",
    "KpiWeightsSetting",
    "PatrolRound",
    "PatrolSetting",
    "Placement",
    "RoutingAdvice",
    "RoutingDecision",
    "Rule",
    "SlaPolicy",
    "Street",
    "UnknownCategory",
    "WorkCalendar",
    "advisories",
    "deadlines_for",
    "explain",
    "locate",
    "parse_catalogue",
    "parse_duration",
    "place",
    "policy_for",
    "route",
    "routing_advice",
    "warning_time",
    "work_calendar",
]
