"""The departments' actions on their tasks, and the dispatchers' rulings (DESIGN.md §4)."""

from fastapi import APIRouter

from dispatch.api.commands import add_task_action
from dispatch.handlers import TASK_ACTIONS

router = APIRouter(tags=["tasks"])

for action in TASK_ACTIONS.values():
    add_task_action(router, action)
