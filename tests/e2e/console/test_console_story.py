"""The console's core story in Chromium: an operator files, the department works the task,
another department is kept out, and nothing a citizen types can run as script."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from browsing import Console, file_case, shot, sign_in

from dispatch.projections.case_list import live_tables

CASE_NO = re.compile(r"^\d{8}-\d{5}$")
ENVIR_NAME = "市生态环境局新城分局"
SCRIPT = "<script>alert(1)</script>"


def fill_complaint(page: Any, description: str, *, phone: str = "13800138000") -> None:
    """The intake form, by keyboard: type in the category picker, tab through the fields."""
    page.get_by_label("诉求类别").fill("env.smoke")
    page.get_by_label("地址").fill("西一路12号")
    page.get_by_label("网格").select_option("XYL-01")
    page.get_by_label("诉求描述").fill(description)
    page.get_by_label("诉求人姓名").fill("王女士")
    page.get_by_label("诉求人电话").fill(phone)


def submit(page: Any, name: str) -> Any:
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name).click()
    return navigation.value


def test_operator_files_a_complaint_and_sees_number_and_department(
    new_page: Any, console: Console
) -> None:
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")
    assert page.url.endswith("/console/intake")
    assert page.title().startswith("受理")
    shot(page, console, "01-intake-form")
    fill_complaint(page, f"楼下餐馆油烟直排 {uuid.uuid4().hex[:6]}")
    submit(page, "保存并派单")
    if page.locator("#dup-title").count():  # an earlier case in XYL-01: file this one anyway
        submit(page, "仍然受理")

    number = page.get_by_test_id("case-no").inner_text()
    assert CASE_NO.match(number), number
    routed = page.locator(".routed[data-department=envir]")
    assert routed.inner_text() == ENVIR_NAME
    assert page.title().startswith(f"工单 {number}")
    shot(page, console, "02-case-filed")


def test_intake_warns_about_a_likely_duplicate(new_page: Any, console: Console) -> None:
    file_case(console, description="同一处油烟，第一次来电")
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")
    fill_complaint(page, "同一处油烟，第二次来电")
    submit(page, "保存并派单")

    warning = page.locator("section.warning")
    assert warning.is_visible()
    assert "疑似重复" in warning.inner_text()
    assert page.get_by_label("诉求描述").input_value() == "同一处油烟，第二次来电"
    shot(page, console, "03-duplicate-warning")
    submit(page, "仍然受理")
    assert CASE_NO.match(page.get_by_test_id("case-no").inner_text())


def test_liaison_signs_contacts_and_replies_from_the_inbox(new_page: Any, console: Console) -> None:
    case_id, number = file_case(console, description="油烟扰民，请环保部门处理")
    page = new_page()
    sign_in(page, console.user("liaison", department="envir"), next_path="/console/inbox")
    assert page.url.endswith("/console/inbox")
    task = page.locator(f"article[data-case-no='{number}']")
    assert "待签收" in task.inner_text()
    assert task.locator("time.countdown").first.inner_text().startswith("剩余")
    shot(page, console, "04-inbox")

    with page.expect_navigation():
        task.get_by_role("button", name="签收").click()
    task = page.locator(f"article[data-case-no='{number}']")
    assert "已签收" in task.inner_text()

    task.locator("summary", has_text="联系诉求人").click()
    task.get_by_label("联系情况").fill("已电话联系王女士，约定明早上门查看")
    with page.expect_navigation():
        task.get_by_role("button", name="联系诉求人").click()
    task = page.locator(f"article[data-case-no='{number}']")
    assert "已联系诉求人" in task.inner_text()

    task.locator("summary", has_text="办结回复").click()
    task.get_by_label("办理结果").fill("已责令餐馆安装油烟净化器并复查合格")
    shot(page, console, "05-inbox-reply-form")
    with page.expect_navigation():
        task.get_by_role("button", name="办结回复").click()
    assert page.locator(".flash.ok").inner_text().startswith("已办结回复")
    assert page.locator(f"article[data-case-no='{number}']").count() == 0  # no longer open

    page.goto(f"/console/cases/{case_id}")
    assert "已办结" in page.locator("h1").inner_text()
    assert "已责令餐馆安装油烟净化器" in page.locator(".resolution").inner_text()
    assert "13800138000" not in page.content()  # liaisons see masked phones only
    shot(page, console, "06-case-replied-liaison")


def test_another_departments_liaison_sees_nothing_and_a_forged_post_is_refused(
    new_page: Any, console: Console
) -> None:
    case_id, number = file_case(console, description="油烟，只归环保")
    page = new_page()
    sign_in(page, console.user("liaison", department="gas"))
    assert number not in page.content()

    response = page.goto(f"/console/cases/{case_id}")
    assert response.status == 403
    assert "403" in page.locator("h1").inner_text()
    shot(page, console, "07-forbidden-case")

    envir_task = _task_id(console, case_id)
    page.goto("/console/inbox")
    response = forge_post(page, f"/console/tasks/{envir_task}/sign")
    assert response.status == 403
    assert "这不是您可以处理的任务" in page.locator("h1").inner_text()
    assert _task_state(console, envir_task) == "dispatched"


def test_a_form_post_without_the_csrf_token_is_refused(new_page: Any, console: Console) -> None:
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")
    marker = f"无令牌提交 {uuid.uuid4().hex[:8]}"
    fill_complaint(page, marker)
    page.locator("input[name=csrf_token]").evaluate_all("inputs => inputs.forEach(i => i.remove())")
    response = submit(page, "保存并派单")
    assert response.status == 403
    assert "表单已过期" in page.locator("h1").inner_text()
    shot(page, console, "08-csrf-refused")
    assert _cases_described(console, marker) == 0


def test_a_script_in_a_complaint_renders_as_text_everywhere(
    new_page: Any, console: Console
) -> None:
    operator = new_page()
    sign_in(operator, console.user("operator"), next_path="/console/intake")
    fill_complaint(operator, SCRIPT, phone="13700137000")
    submit(operator, "保存并派单")
    if operator.locator("#dup-title").count():
        submit(operator, "仍然受理")
    case_id = operator.url.split("/cases/")[1].split("?")[0]
    assert operator.get_by_test_id("description").inner_text() == SCRIPT

    operator.goto("/console/cases?q=13700137000")
    assert operator.get_by_text(SCRIPT).first.is_visible()
    shot(operator, console, "09-search-by-phone")

    staff = new_page()
    sign_in(staff, console.user("dispatcher", "supervisor"))
    for path in (f"/cases/{case_id}", f"/cases/{case_id}/dispatch", f"/cases/{case_id}/audit"):
        staff.goto(f"/console{path}")
        assert staff.get_by_text(SCRIPT).first.is_visible(), path
    shot(staff, console, "10-audit-trail")
    staff.goto(f"/console/cases/{case_id}/timeline")
    assert operator.dialogs == [] and staff.dialogs == []


def forge_post(page: Any, action: str) -> Any:
    """A real form post from the signed-in page, carrying the session's own CSRF token: only
    the department check can stop it."""
    with page.expect_navigation() as navigation:
        page.evaluate(
            """action => {
                const form = document.createElement('form');
                form.method = 'post';
                form.action = action;
                const token = document.querySelector('input[name=csrf_token]').cloneNode();
                form.appendChild(token);
                document.body.appendChild(form);
                form.submit();
            }""",
            action,
        )
    return navigation.value


def _task_id(console: Console, case_id: str) -> str:
    tasks = live_tables()["case_tasks"]
    with console.container.store.reading() as conn:
        query = sa.select(tasks.c.id).where(tasks.c.case_id == case_id)
        return str(conn.execute(query).scalar_one())


def _task_state(console: Console, task_id: str) -> str:
    tasks = live_tables()["case_tasks"]
    with console.container.store.reading() as conn:
        return str(conn.execute(sa.select(tasks.c.state).where(tasks.c.id == task_id)).scalar())


def _cases_described(console: Console, text: str) -> int:
    cases = live_tables()["case_list"]
    with console.container.store.reading() as conn:
        query = sa.select(sa.func.count()).where(cases.c.description == text)
        return int(conn.execute(query).scalar() or 0)
