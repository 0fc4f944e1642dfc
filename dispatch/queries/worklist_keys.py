"""The worklists (工作台待办) of DESIGN.md §8.1: which lists there are, who sees each, and
whether it holds cases or tasks. The queries behind them are in ``worklist_items``.

Every case that is not closed, answered, merged or parked is on at least one of them: a case
with no task in play is 待派单, a task waits on its department (待签收, 待办理) or on a
dispatcher (待审核), and a case whose tasks have all replied waits on the hotline (待回访,
then 待结案).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dispatch.queries.scope import Viewer, roles_of

CENTRE = frozenset({"operator", "dispatcher", "supervisor"})


@dataclass(frozen=True)
class Worklist:
    key: str
    title: str  # Chinese first: the console and the clients show it as it is
    # patrol: a grid's missed round (漏巡); hotspot: a hotspot raised (主动治理)
    holds: Literal["case", "task", "patrol", "hotspot"]
    roles: frozenset[str]  # any one of them shows the list
    summary: str


WORKLISTS: tuple[Worklist, ...] = (
    Worklist(
        "dispatch",
        "待派单",
        "case",
        frozenset({"dispatcher", "supervisor", "admin"}),
        "open cases with no task in play: unroutable, returned, cancelled, reopened, recalled",
    ),
    Worklist(
        "rulings",
        "待审核",
        "task",
        frozenset({"dispatcher", "supervisor"}),
        "return and extension requests awaiting a dispatcher's ruling",
    ),
    Worklist(
        "callbacks",
        "待回访",
        "case",
        CENTRE,
        "cases whose tasks have all replied, with no callback yet in this round",
    ),
    Worklist(
        "closing",
        "待结案",
        "case",
        CENTRE,
        "replied cases called back in this round, to close (or reopen)",
    ),
    Worklist(
        "sign",
        "待签收",
        "task",
        frozenset({"liaison"}),
        "the department's tasks dispatched and not yet signed",
    ),
    Worklist(
        "handle",
        "待办理",
        "task",
        frozenset({"liaison"}),
        "the department's signed tasks not yet replied (and not awaiting a return ruling)",
    ),
    Worklist(
        "overdue",
        "超期",
        "task",
        frozenset({"supervisor", "dispatcher", "liaison"}),
        "open tasks past a deadline now (a liaison: its own department's)",
    ),
    Worklist(
        "park_review",
        "挂账到期",
        "case",
        frozenset({"dispatcher", "supervisor"}),
        "parked cases whose review date has come",
    ),
    Worklist(
        "summoned",
        "吹哨报到",
        "task",
        frozenset({"street"}),
        "the street's summoned tasks still open, and replied ones awaiting its evaluation",
    ),
    Worklist(
        "patrol_missed",
        "漏巡",
        "patrol",
        frozenset({"street", "supervisor"}),
        "patrol rounds past their time with no report (a street: its own grids'), a week back",
    ),
    Worklist(
        "hotspots",
        "主动治理",
        "hotspot",
        frozenset({"street", "supervisor"}),
        "hotspots raised (one category, one grid, one window; a street: its own grids'), "
        "until a week after their window",
    ),
)

BY_KEY: dict[str, Worklist] = {worklist.key: worklist for worklist in WORKLISTS}


class UnknownWorklist(LookupError):
    """No worklist has this key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no worklist {key!r}; the worklists are: {', '.join(BY_KEY)}")


class NotYourWorklist(PermissionError):
    """The viewer holds none of the roles a worklist is for, or asked outside its scope."""


def worklist(key: str) -> Worklist:
    try:
        return BY_KEY[key]
    except KeyError:
        raise UnknownWorklist(key) from None


def may_see(viewer: Viewer, worklist: Worklist) -> bool:
    return bool(roles_of(viewer) & worklist.roles)


def visible_worklists(viewer: Viewer) -> list[Worklist]:
    """The worklists of the viewer's roles, in the order of ``WORKLISTS``."""
    return [w for w in WORKLISTS if may_see(viewer, w)]


def check_may_see(viewer: Viewer, worklist: Worklist) -> None:
    if not may_see(viewer, worklist):
        raise NotYourWorklist(
            f"the worklist {worklist.key!r} ({worklist.title}) is for the roles: "
            f"{', '.join(sorted(worklist.roles))}"
        )
