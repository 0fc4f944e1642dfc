"""Task ids are ``<case_id>-<n>``: a task command finds its case without a lookup."""

from __future__ import annotations

from dispatch.domain.case_state import CaseState


def next_task_ids(state: CaseState, count: int) -> list[str]:
    """The ids of the next ``count`` tasks of the case, numbered on from its last one."""
    start = len(state.tasks) + 1
    return [f"{state.case_id}-{n}" for n in range(start, start + count)]


def case_id_of(task_id: str) -> str:
    return task_id.rsplit("-", 1)[0]
