"""The case aggregate (工单): state, evolve/fold, decide, and the errors it refuses with.

One import for handlers, workers and tests; the parts live in ``case_state`` (statuses, the
transition tables, the state), ``case_evolve`` (rebuilding from events), ``case_decide``
(commands → events) and ``case_guards`` (the rules' checks and the domain errors).
"""

from dispatch.domain.case_decide import DECISIONS, decide
from dispatch.domain.case_evolve import evolve, fold
from dispatch.domain.case_guards import (
    CaseNotReceived,
    DomainError,
    DuplicateCase,
    ExtensionTooLong,
    IllegalTransition,
    PhotoRequired,
    UnknownTask,
)
from dispatch.domain.case_state import (
    CASE_ACTIONS,
    TASK_TRANSITIONS,
    Attachment,
    Callback,
    CaseState,
    CaseStatus,
    Evaluation,
    Parking,
    PendingExtension,
    ReturnRequest,
    TaskState,
    TaskStatus,
    Urge,
    Whistle,
    allowed_case_actions,
    allowed_task_actions,
    derive_status,
)

__all__ = [
    "CASE_ACTIONS",
    "DECISIONS",
    "TASK_TRANSITIONS",
    "Attachment",
    "Callback",
    "CaseNotReceived",
    "CaseState",
    "CaseStatus",
    "DomainError",
    "DuplicateCase",
    "Evaluation",
    "ExtensionTooLong",
    "IllegalTransition",
    "Parking",
    "PendingExtension",
    "PhotoRequired",
    "ReturnRequest",
    "TaskState",
    "TaskStatus",
    "UnknownTask",
    "Urge",
    "Whistle",
    "allowed_case_actions",
    "allowed_task_actions",
    "decide",
    "derive_status",
    "evolve",
    "fold",
]
