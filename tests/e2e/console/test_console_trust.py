"""The case page and the step log people trust, and the supervisor's dashboard, in Chromium.

A deadline missed reads ✗ with how late, never ✓; people are named as they are known (王芳 of
自来水公司), not by login; events are named in Chinese; a merged case shows the number of the
case it joined; the step log shows what each person said. The dashboard opens on the last
complete month and its ledger export carries the period and filters shown on the screen.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from browsing import Console, shot, sign_in

from dispatch.domain import commands as c
from dispatch.handlers import Complaint, Handling, Issuer, handle, new_case_id, routed_tasks

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _water_case_three_hours_old(console: Console, description: str) -> tuple[str, str]:
    """A water outage routed three hours ago: its two-hour sign deadline has passed."""
    container = console.container
    now = container.clock()
    earlier = Handling(
        log=container.store,
        clock=lambda: now - timedelta(hours=3),
        catalogue_source=container.catalogue_source,
        intake=container.handling.intake,
    )
    complaint = Complaint(
        channel="phone",
        category="water.outage",
        description=description,
        urgency="normal",
        grid="XYL-03",
        address="东七路3号",
        reporter_phone="13900139000",
    )
    operator = Issuer(actor=console.user("operator", name="赵接线"), role="operator")
    result = handle(earlier, new_case_id(), complaint, operator)
    routed_tasks(earlier, result.case_id)
    container.projector.catch_up()
    return result.case_id, result.state.case_no


def _handled_late_by(
    console: Console, case_id: str, liaison: Any, resolution: str = "已抢修管道，恢复供水"
) -> None:
    """The liaison signs now (an hour late), calls the citizen and replies (both in time)."""
    from dispatch.queries.tasks import tasks_of_case

    container = console.container
    container.fresh("case_list")
    with container.store.reading() as conn:
        task = next(t for t in tasks_of_case(conn, case_id) if t["department"] == "water")
    issuer = Issuer(actor=liaison, role="liaison")
    for command in (
        c.SignTask(task_id=task["id"]),
        c.ContactCitizen(task_id=task["id"], note="已电话联系李先生"),
        c.ReplyTask(task_id=task["id"], resolution=resolution),
    ):
        container.after_command(container.handle(task["id"], command, issuer))


def test_a_late_signature_reads_late_and_people_are_named_with_their_words(
    new_page: Any, console: Console
) -> None:
    case_id, case_no = _water_case_three_hours_old(console, "整栋楼停水三小时，老人无法做饭")
    liaison = console.user("liaison", department="water", name="王芳")
    _handled_late_by(console, case_id, liaison)
    duplicate_id, duplicate_no = _water_case_three_hours_old(console, "东七路停水（重复来电）")

    page = new_page()
    sign_in(
        page, console.user("dispatcher", name="陈调度"), next_path=f"/console/cases/{duplicate_id}"
    )
    page.get_by_text("重复件并案").first.click()
    page.get_by_label("并入工单编号").fill(case_no)
    with page.expect_navigation():
        page.get_by_role("button", name="重复件并案").click()
    merged = page.get_by_test_id("merged-into")
    assert merged.inner_text() == case_no  # the number, never the 32-hex id
    assert case_id not in merged.inner_text()

    page.goto(f"/console/cases/{case_id}")
    sign = page.locator(".deadlines [data-stage=sign]")
    assert sign.get_attribute("data-verdict") == "late"
    assert re.search(r"✗ 迟了 (59分|1小时)", sign.inner_text()), sign.inner_text()
    assert "✓" not in sign.inner_text()
    contact = page.locator(".deadlines [data-stage=contact]")
    assert "✓ 按时" in contact.inner_text()
    assert duplicate_no in page.get_by_test_id("callers").inner_text()

    steps = page.locator("#step-log")
    replied = steps.locator("tr[data-type=TaskReplied]")
    assert "王芳" in replied.inner_text() and "自来水公司" in replied.inner_text()
    assert "办理结果" in replied.inner_text() and "已抢修管道，恢复供水" in replied.inner_text()
    assert liaison.username not in steps.inner_text()
    assert "赵接线" in steps.locator("tr[data-type=CaseReceived]").inner_text()
    assert "系统（自动）" in steps.locator("tr[data-type=CaseDispatched]").first.inner_text()
    shot(page, console, "30-case-trust")

    page.goto(f"/console/cases/{case_id}/audit")
    assert "工单受理" in page.locator("table.audit").inner_text()
    assert "王芳" in page.locator("table.audit").inner_text()

    page.goto(f"/console/cases/{duplicate_id}/timeline")
    merged_row = page.locator("#step-log tr[data-type=CaseMerged]")
    assert case_no in merged_row.inner_text() and "陈调度" in merged_row.inner_text()
    shot(page, console, "31-timeline-opinions")


def test_numbers_in_the_step_log_are_masked_for_the_street(new_page: Any, console: Console) -> None:
    case_id, _no = _water_case_three_hours_old(console, "停水")
    liaison = console.user("liaison", department="water", name="刘联络")
    _handled_late_by(console, case_id, liaison, resolution="已修复，回电 13900139000 确认")
    page = new_page()
    sign_in(page, console.user("street", street="XYL"), next_path=f"/console/cases/{case_id}")
    replied = page.locator("#step-log tr[data-type=TaskReplied]").inner_text()
    assert "13900139000" not in replied and "139****9000" in replied


def test_the_dashboard_opens_on_the_last_complete_month_and_the_ledger_follows_it(
    new_page: Any, console: Console
) -> None:
    now = console.container.clock().astimezone(SHANGHAI)
    first_of_month = now.replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).strftime("%Y-%m")
    page = new_page()
    sign_in(page, console.user("supervisor", name="督办科"), next_path="/console/dashboard")
    assert page.get_by_test_id("period").inner_text() == last_month
    assert "样本不足" in page.locator("#min-due").inner_text()
    page.locator("#f-department").select_option(value="water")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    export = page.locator("#export-xlsx").get_attribute("href") or ""
    assert f"month={last_month}" in export and "department=water" in export
    csv_link = page.locator("#export-csv").get_attribute("href") or ""
    body = page.request.get(csv_link).text()
    assert body.lstrip("\ufeff").startswith("工单编号")
    assert "诉求描述" in body.splitlines()[0] and "办理结果" in body.splitlines()[0]
    assert int(page.get_by_test_id("alerts-total").inner_text()) >= 0
    shot(page, console, "32-dashboard-period")


def test_the_street_page_summons_only_departments_not_already_on_the_case(
    new_page: Any, console: Console
) -> None:
    case_id, _case_no = _water_case_three_hours_old(console, "东七路停水，居民聚集")
    page = new_page()
    sign_in(
        page, console.user("street", street="XYL", name="西一路街道办"), next_path="/console/street"
    )
    assert page.url.endswith("/console/street")
    headings = page.locator("h2").all_inner_texts()
    cases_at = next(i for i, text in enumerate(headings) if text.startswith("本街道在办工单"))
    assert headings.index("报到情况") < cases_at, headings  # the 报到 table comes first
    form = page.locator(f"form[action='/console/cases/{case_id}/whistle']")
    for later in range(2, 20):  # newest first, 20 a page: other tests' cases may come first
        if form.count():
            break
        page.goto(f"/console/street?page={later}")
    offered = form.locator("input[name=departments]").evaluate_all("e => e.map(x => x.value)")
    assert "water" not in offered  # it already holds a live task on the case
    assert {"roads", "city"} <= set(offered)
    limits = form.locator("select[name=report_within] option").all_text_contents()
    assert "2 小时" in limits and "1 天" in limits
    shot(page, console, "33-street")
