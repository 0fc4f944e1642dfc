"""工作台 in Chromium: a liaison's worklists (overdue first), the filter bar, batch sign with a
summary of what was signed and what refused, and a new task appearing without a reload."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from browsing import Console, act_on_task, file_case, shot, sign_in

from dispatch.domain import commands as c

DEPARTMENT = "envir"  # env.* routes here in the sample catalogue


@contextmanager
def days_ago(console: Console, days: int) -> Iterator[None]:
    """Commands decided as if ``days`` ago: a case filed then is overdue now."""
    container = console.container
    handling = container.handling
    container.handling = dataclasses.replace(
        handling, clock=lambda: handling.clock() - timedelta(days=days)
    )
    try:
        yield
    finally:
        container.handling = handling


def liaison_page(new_page: Any, console: Console, path: str = "/console/") -> Any:
    page = new_page()
    sign_in(page, console.user("liaison", department=DEPARTMENT), next_path=path)
    return page


def row_of(page: Any, case_no: str) -> Any:
    return page.locator("tr[data-task]", has=page.get_by_role("link", name=case_no, exact=True))


def test_a_liaison_lands_on_its_worklist_with_the_overdue_task_first(
    new_page: Any, console: Console
) -> None:
    _, fresh_no = file_case(console, description=f"今天的油烟 {uuid.uuid4().hex[:6]}")
    with days_ago(console, 10):
        _, late_no = file_case(console, description=f"十天前的油烟 {uuid.uuid4().hex[:6]}")

    page = liaison_page(new_page, console)

    assert page.url.endswith("/console/worklists")
    case_numbers = page.locator("tbody tr[data-task] a.case-no").all_inner_texts()
    assert case_numbers.index(late_no) < case_numbers.index(fresh_no)
    assert "overdue" in (row_of(page, late_no).get_attribute("class") or "")
    assert "超期" in row_of(page, late_no).inner_text()
    assert "剩余" in row_of(page, fresh_no).inner_text()
    shot(page, console, "worklists-liaison-overdue-first")


def test_the_filter_bar_narrows_a_worklist(new_page: Any, console: Console) -> None:
    there = {"address": "西二路3号", "grid": "XYL-02"}
    _, here_no = file_case(console, description=f"一号网格 {uuid.uuid4().hex[:6]}")
    _, there_no = file_case(console, description=f"二号网格 {uuid.uuid4().hex[:6]}", location=there)
    page = liaison_page(new_page, console, "/console/worklists?key=sign")
    assert row_of(page, here_no).count() == 1 and row_of(page, there_no).count() == 1

    page.get_by_label("网格").select_option("XYL-02")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()

    assert row_of(page, there_no).count() == 1
    assert row_of(page, here_no).count() == 0
    shot(page, console, "worklists-filtered-by-grid")


def test_batch_sign_signs_the_chosen_tasks_and_says_which_were_refused(
    new_page: Any, console: Console
) -> None:
    first_id, first_no = file_case(console, description=f"批量一 {uuid.uuid4().hex[:6]}")
    _, second_no = file_case(console, description=f"批量二 {uuid.uuid4().hex[:6]}")
    page = liaison_page(new_page, console, "/console/worklists?key=sign")
    row_of(page, first_no).get_by_role("checkbox").check()
    row_of(page, second_no).get_by_role("checkbox").check()
    act_on_task(console, first_id, DEPARTMENT, lambda task: c.SignTask(task_id=task))

    with page.expect_navigation():
        page.get_by_role("button", name="批量签收").click()

    signed = page.locator(".flash.ok").inner_text()
    refused = page.locator(".flash.error").inner_text()
    assert "已签收 1 张" in signed and second_no in signed
    assert first_no in refused and refused.isascii() is False
    assert row_of(page, second_no).count() == 0
    shot(page, console, "worklists-batch-sign")


def test_a_new_task_appears_in_a_liaisons_open_worklist_within_two_seconds(
    new_page: Any, console: Console
) -> None:
    page = liaison_page(new_page, console, "/console/worklists?key=sign")
    page.wait_for_timeout(1200)  # the stream has opened and told the counts

    filed = time.monotonic()
    _, case_no = file_case(console, description=f"实时推送 {uuid.uuid4().hex[:6]}")
    page.locator("tr[data-task].live-new", has_text=case_no).wait_for(timeout=2000)

    assert time.monotonic() - filed < 2.5
    assert case_no in page.locator("[data-live-note]").inner_text()
    shot(page, console, "worklists-live-new-task")
