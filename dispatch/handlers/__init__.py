"""The command side: handlers that load a case, decide, and append its events."""

from dispatch.handlers.actor import SYSTEM, Actor, SystemActor
from dispatch.handlers.errors import (
    ApplicationError,
    CaseNotFound,
    InvalidInput,
    NoCatalogue,
    NotInScope,
    StaleVersion,
    TaskNotFound,
)
from dispatch.handlers.executor import CommandResult
from dispatch.handlers.intake import Complaint
from dispatch.handlers.service import CaseService

__all__ = [
    "SYSTEM",
    "Actor",
    "ApplicationError",
    "CaseNotFound",
    "CaseService",
    "CommandResult",
    "Complaint",
    "InvalidInput",
    "NoCatalogue",
    "NotInScope",
    "StaleVersion",
    "SystemActor",
    "TaskNotFound",
]
