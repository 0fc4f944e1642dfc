"""The command side: handlers that load a case, decide, and append its events."""

from dispatch.handlers.actions import CASE_ACTIONS, TASK_ACTIONS, Action, Requested
from dispatch.handlers.actor import SYSTEM, Actor, SystemActor
from dispatch.handlers.commands import handle, park_review_raised, sla_warning_raised
from dispatch.handlers.errors import (
    ApplicationError,
    CaseBusy,
    CaseNotFound,
    InvalidInput,
    NoCatalogue,
    NotInScope,
    StaleVersion,
    TaskNotFound,
)
from dispatch.handlers.executor import CommandResult, load_case
from dispatch.handlers.handling import Handling, Issuer
from dispatch.handlers.intake import Complaint, new_case_id
from dispatch.handlers.route_case import route_together, routed_tasks

__all__ = [
    "CASE_ACTIONS",
    "SYSTEM",
    "TASK_ACTIONS",
    "Action",
    "Actor",
    "ApplicationError",
    "CaseBusy",
    "CaseNotFound",
    "CommandResult",
    "Complaint",
    "Handling",
    "InvalidInput",
    "Issuer",
    "NoCatalogue",
    "NotInScope",
    "Requested",
    "StaleVersion",
    "SystemActor",
    "TaskNotFound",
    "handle",
    "load_case",
    "new_case_id",
    "park_review_raised",
    "route_together",
    "routed_tasks",
    "sla_warning_raised",
]
