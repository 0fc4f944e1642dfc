"""The other desks in Chromium: the dispatcher's, the street officer's and the supervisor's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from browsing import Console, act_on_task, file_case, shot, sign_in

from dispatch.domain import commands as c
from dispatch.handlers import Complaint, Handling, Issuer, handle, new_case_id, routed_tasks

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_dispatcher_dispatches_an_unroutable_case_and_rules_on_a_return(
    new_page: Any, console: Console
) -> None:
    lost_id, lost_no = file_case(
        console, description="咨询：老旧小区加装电梯怎么申请", category="other.consult", location={}
    )
    returned_id, returned_no = file_case(console, description="油烟，环保认为归城管")
    act_on_task(
        console,
        returned_id,
        "envir",
        lambda t: c.RequestReturn(task_id=t, reason="remit", basis="占道经营油烟归城管执法"),
    )
    page = new_page()
    sign_in(page, console.user("dispatcher"), next_path="/console/desk")
    assert page.url.endswith("/console/desk")
    lost = page.locator("#to-dispatch li", has_text=lost_no)
    assert "无派单规则可匹配" in lost.inner_text()
    assert "待派单" in page.locator("nav.worklists").inner_text()
    returns = page.locator("#rulings tr", has_text=returned_no)
    assert "职能不符" in returns.inner_text()
    shot(page, console, "11-dispatch-desk")

    with page.expect_navigation():
        returns.get_by_role("button", name="同意退单").click()
    assert page.locator(".flash.ok").inner_text().startswith("已同意退单")
    page.goto("/console/desk")
    returned = page.locator("#to-dispatch li", has_text=returned_no)
    assert "部门退单已同意" in returned.inner_text()
    assert "职能不符" in returned.inner_text()
    page.goto("/console/worklists?key=dispatch")
    assert returned_no in page.locator("#worklist-dispatch").inner_text()

    page.goto(f"/console/cases/{lost_id}/dispatch")
    assert "请人工派单" in page.locator("#routing-reason").inner_text()
    page.get_by_label("主办单位").select_option("xyl-office")
    shot(page, console, "12-manual-dispatch")
    with page.expect_navigation():
        page.get_by_role("button", name="派单").click()
    assert page.locator(".flash.ok").inner_text() == "已派单。"
    assert "西一路街道办事处" in page.locator("#tasks-title + article").inner_text()


def test_street_officer_reports_blows_the_whistle_and_sees_who_reported_in(
    new_page: Any, console: Console
) -> None:
    page = new_page()
    sign_in(page, console.user("street", street="XYL"), next_path="/console/street")
    assert page.url.endswith("/console/street")
    page.get_by_role("link", name="上报巡查发现的问题").click()
    page.get_by_label("诉求类别").fill("road.pothole")
    page.get_by_label("网格").select_option("XYL-02")
    page.get_by_label("地址").fill("东七路口")
    page.get_by_label("诉求描述").fill("东七路口路面塌陷约一米，已设临时围挡")
    shot(page, console, "13-street-report")
    with page.expect_navigation():
        page.get_by_role("button", name="上报").click()
    if page.locator("#dup-title").count():
        with page.expect_navigation():
            page.get_by_role("button", name="仍然受理").click()
    number = page.get_by_test_id("case-no").inner_text()
    case_id = page.url.split("/cases/")[1].split("?")[0]

    page.goto("/console/street")
    case = page.locator("article.task", has_text=number)
    case.locator("summary", has_text="吹哨").click()
    case.get_by_label("区城市管理和综合执法局").check()
    case.get_by_label("西安水务集团自来水公司").check()
    case.get_by_label("报到时限").select_option("1h")
    case.get_by_label("原因").fill("塌陷处疑有供水管渗漏，需城管、自来水现场会商")
    with page.expect_navigation():
        case.get_by_role("button", name="吹哨").click()
    assert page.locator(".flash.ok").inner_text().startswith("已吹哨")

    act_on_task(console, case_id, "city", lambda t: c.SignTask(task_id=t))
    page.reload()
    reported = page.locator("#h-summoned + table")
    city = reported.locator("tr", has_text=number).filter(has_text="区城市管理和综合执法局")
    water = reported.locator("tr", has_text=number).filter(has_text="西安水务集团自来水公司")
    assert "✓" in city.inner_text()
    assert "剩余" in water.inner_text()
    shot(page, console, "14-street-who-reported-in")


def test_supervisor_sees_kpis_change_urges_and_opens_the_timeline(
    new_page: Any, console: Console
) -> None:
    overdue_id = _overdue_case(console)
    page = new_page()
    sign_in(page, console.user("supervisor"), next_path="/console/dashboard")
    assert page.url.endswith("/console/dashboard")
    this_month = console.container.clock().astimezone(SHANGHAI).strftime("%Y-%m")
    page.goto(f"/console/dashboard?month={this_month}")  # it opens on the last complete month
    before = _kpis(page, "traffic")

    case_id, number = file_case(
        console, description="消防通道被违停车辆堵死", category="traffic.parking"
    )
    act_on_task(
        console,
        case_id,
        "traffic",
        lambda t: c.SignTask(task_id=t),
        lambda t: c.ContactCitizen(task_id=t, note="已联系车主挪车"),
    )
    page.reload()
    after = _kpis(page, "traffic")
    assert after["dispatched"] == before["dispatched"] + 1
    assert after["chart"] != before["chart"]
    assert after["chart"]["response_rate"] not in ("", None)
    assert page.locator("#trend-chart rect.column").count() == 30
    shot(page, console, "15-dashboard")

    alert = page.locator("#h-alerts + table tr").filter(
        has=page.locator(f"a[href='/console/cases/{overdue_id}']")
    )
    with page.expect_navigation():
        alert.first.get_by_role("button", name="督办").click()
    assert page.locator(".flash.ok").inner_text() == "已催办。"
    assert f"month={this_month}" in page.url  # the urge keeps the chosen period

    export = page.request.get("/console/exports/cases.xlsx")
    assert export.status == 200
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")

    page.goto(f"/console/cases/{case_id}")
    page.get_by_role("link", name="流转轨迹").click()
    assert number in page.locator("h1").inner_text()
    assert page.locator("#stages-chart rect.span").count() >= 3
    assert "已签收，办理中" in page.locator("table.list").inner_text()
    shot(page, console, "16-timeline")

    page.goto("/console/dashboard?lang=en")
    assert page.locator("h1").inner_text().startswith("Supervision")
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, console, "17-dashboard-english")
    page.goto("/console/dashboard")  # the cookie keeps English
    assert page.title().startswith("Supervision")
    page.goto("/console/dashboard?lang=zh_CN")


def _kpis(page: Any, department: str) -> dict[str, Any]:
    row = page.locator(f"#kpi-table tr[data-key='{department}']")
    dispatched = int(row.locator("[data-field=dispatched]").inner_text()) if row.count() else 0
    bars = page.locator(f"#kpi-chart rect[data-key='{department}']")
    chart = {
        bars.nth(i).get_attribute("data-series"): bars.nth(i).get_attribute("data-value")
        for i in range(bars.count())
    }
    labels = page.locator("#kpi-chart text.label").all_text_contents()
    chart["labels"] = "|".join(labels)
    return {"dispatched": dispatched, "chart": chart}


def _overdue_case(console: Console) -> str:
    """A case received and routed three hours ago: its two-hour utility deadlines have passed."""
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
        description="整栋楼停水三小时",
        urgency="normal",
        grid="XYL-03",
        address="东七路3号",
    )
    operator = Issuer(actor=console.user("operator"), role="operator")
    result = handle(earlier, new_case_id(), complaint, operator)
    routed_tasks(earlier, result.case_id)
    container.projector.catch_up()
    return result.case_id
