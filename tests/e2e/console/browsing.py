"""Helpers for the console's browser tests: the running console, signing in, screenshots,
and cases made without the browser (imported by name: ``from browsing import …``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from dispatch.auth.users import User, add_user
from dispatch.bootstrap import Container

PASSWORD = "correct horse battery staple"
# Cheap argon2 parameters (as in tests/e2e/conftest.py): a sign-in upgrades the hash.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@dataclass
class Console:
    """The running console: its base URL and the container behind it."""

    url: str
    container: Container
    screenshots: Path

    def user(
        self,
        *roles: str,
        department: str | None = None,
        street: str | None = None,
        grid: str | None = None,
        name: str | None = None,
    ) -> User:
        """A fresh user (random username; ``name``: the display name) with the test password."""
        with self.container.engine.begin() as conn:
            return add_user(
                conn,
                username=f"{roles[0]}-{uuid.uuid4().hex[:8]}",
                password=PASSWORD,
                roles=roles,
                department=department,
                street=street,
                grid=grid,
                display_name=name,
                hasher=FAST_HASHER,
            )


def sign_in(page: Any, user: User, *, next_path: str = "/console/") -> None:
    """Through the login form, with the keyboard, as a person would."""
    page.goto(f"/console/login?next={next_path}")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.wait_for_load_state()
    assert "/console/login" not in page.url, page.content()


def shot(page: Any, console: Console, name: str) -> Path:
    path = console.screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def file_case(
    console: Console,
    *,
    description: str,
    category: str = "env.smoke",
    location: dict[str, Any] | None = None,
) -> tuple[str, str]:
    """A complaint filed (and routed in-process) without the browser: (case id, case number)."""
    from dispatch.handlers import Complaint, Issuer, new_case_id

    where = location if location is not None else {"address": "西一路12号", "grid": "XYL-01"}
    operator = console.user("operator")
    complaint = Complaint(
        channel="phone",
        category=category,
        description=description,
        urgency="normal",
        reporter_name="李先生",
        reporter_phone="13900139000",
        **where,
    )
    container = console.container
    result = container.handle(new_case_id(), complaint, Issuer(actor=operator, role="operator"))
    container.after_command(result)
    return result.case_id, result.state.case_no


def act_on_task(console: Console, case_id: str, department: str, *commands: Any) -> str:
    """Run domain commands on the case's open task of ``department`` as its liaison."""
    from dispatch.handlers import Issuer
    from dispatch.queries.tasks import tasks_of_case

    container = console.container
    container.fresh("case_list")  # the routing job ran in this process, after no read
    with container.store.reading() as conn:
        task = next(
            t
            for t in tasks_of_case(conn, case_id)
            if t["department"] == department and t["state"] not in ("returned", "cancelled")
        )
    liaison = console.user("liaison", department=department)
    for make in commands:
        result = container.handle(
            task["id"], make(task["id"]), Issuer(actor=liaison, role="liaison")
        )
        container.after_command(result)
    return str(task["id"])
