"""The hotline desk in Chromium: intake by keyboard in the order of a call, 待派单 saying why,
manual dispatch that never pre-selects the department that returned the case, rulings inline,
and the callback form with no rating chosen for the operator."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

from browsing import Console, act_on_task, file_case, shot, sign_in

from dispatch.domain import commands as c
from dispatch.handlers import Issuer, Requested
from dispatch.handlers.actions import TASK_ACTIONS

CASE_NO = re.compile(r"^\d{8}-\d{5}$")


def fresh_phone() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


def type_then_tab(page: Any, text: str) -> None:
    page.keyboard.type(text)
    page.keyboard.press("Tab")


def test_an_operator_files_a_complaint_with_the_keyboard_alone(
    new_page: Any, console: Console
) -> None:
    phone = fresh_phone()
    from dispatch.handlers import Complaint, new_case_id

    operator = console.user("operator")
    earlier = console.container.handle(
        new_case_id(),
        Complaint(
            channel="phone",
            category="road.streetlight",
            description="上月来电：路灯不亮",
            urgency="normal",
            reporter_phone=phone,
            address="西一路3号",
            grid="XYL-02",
        ),
        Issuer(actor=operator, role="operator"),
    )
    console.container.after_command(earlier)
    earlier_no = earlier.state.case_no
    words = f"小区门口油烟直排 {uuid.uuid4().hex[:6]}"

    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")
    assert page.evaluate("document.activeElement.id") == "reporter_phone"  # the phone first
    type_then_tab(page, phone)
    similar = page.locator("#similar li", has_text=earlier_no)
    similar.wait_for()  # the caller's earlier case appears while the call goes on
    assert "同一来电人" in similar.inner_text()
    type_then_tab(page, "王女士")
    assert page.evaluate("document.activeElement.id") == "reporter_confidential"
    page.keyboard.press("Tab")  # 保密: not this time
    assert page.evaluate("document.activeElement.id") == "nature"
    page.keyboard.press("Tab")  # 投诉 is the default
    assert page.evaluate("document.activeElement.getAttribute('role')") == "combobox"
    page.keyboard.type("油烟")
    options = page.locator("#category-options [role=option]:not([hidden])")
    assert options.all_inner_texts() == ["餐饮油烟扰民"]  # names only, never codes
    active = page.evaluate("document.activeElement.getAttribute('aria-activedescendant')")
    assert active and page.locator(f"#{active}").inner_text() == "餐饮油烟扰民"
    shot(page, console, "40-intake-category-combobox")
    page.keyboard.press("Enter")  # takes the option, does not file
    assert "/console/intake" in page.url
    assert page.locator("[data-category-code]").input_value() == "env.smoke"
    page.keyboard.press("Tab")
    type_then_tab(page, "西一路12号")
    assert page.evaluate("document.activeElement.id") == "street"
    page.keyboard.press("ArrowDown")  # 西一路街道
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # its first grid
    assert page.locator("#grid").input_value().startswith("XYL-")
    assert (
        page.locator("#lat").count() == 0
        and page.locator("input[name=lat]").get_attribute("type") == "hidden"
    )
    page.keyboard.press("Tab")
    if page.evaluate("document.activeElement.hasAttribute('data-locate')"):
        page.keyboard.press("Tab")  # the device-position button: not on a desk phone
    assert page.evaluate("document.activeElement.id") == "description"
    page.keyboard.type(words)
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # 紧急
    assert "Alt+S" in page.locator(".submit-row").inner_text()
    shot(page, console, "41-intake-keyboard-filled")
    with page.expect_navigation():
        page.keyboard.press("Alt+S")
    if page.locator("#dup-title").count():  # an earlier 油烟 case nearby: file it anyway
        with page.expect_navigation():
            page.keyboard.press("Alt+S")

    number = page.get_by_test_id("case-no").inner_text()
    assert CASE_NO.match(number), number
    assert words in page.content()
    shot(page, console, "42-intake-keyboard-filed")


def test_the_dispatch_worklist_says_why_each_case_waits_in_plain_chinese(
    new_page: Any, console: Console
) -> None:
    _lost_id, lost_no = file_case(
        console, description="咨询：加装电梯怎么申请", category="other.consult", location={}
    )
    returned_id, returned_no = file_case(console, description="油烟，环保说归城管")
    act_on_task(
        console,
        returned_id,
        "envir",
        lambda t: c.RequestReturn(task_id=t, reason="remit", basis="占道经营油烟归城管执法"),
    )
    dispatcher = console.user("dispatcher")
    page = new_page()
    sign_in(page, dispatcher, next_path="/console/desk")
    row = page.locator("#rulings tr", has_text=returned_no)
    with page.expect_navigation():
        row.get_by_role("button", name="同意退单").click()

    page.goto("/console/desk")
    lost = page.locator("#to-dispatch li", has_text=lost_no).inner_text()
    assert "未定位到网格或街道" in lost and "「其他咨询求助」" in lost, lost
    assert "no routing rule" not in lost and "other.consult" not in lost
    returned = page.locator("#to-dispatch li", has_text=returned_no).inner_text()
    assert "职能不符" in returned and "占道经营油烟归城管执法" in returned, returned
    shot(page, console, "43-dispatch-worklist-why")


def test_manual_dispatch_never_preselects_the_department_that_returned_the_case(
    new_page: Any, console: Console
) -> None:
    case_id, _number = file_case(console, description="油烟，环保退单")
    act_on_task(
        console,
        case_id,
        "envir",
        lambda t: c.RequestReturn(task_id=t, reason="remit", basis="不属环保职能"),
    )
    from dispatch.queries.tasks import tasks_of_case

    with console.container.store.reading() as conn:
        task = next(t for t in tasks_of_case(conn, case_id) if t["department"] == "envir")
    approve = TASK_ACTIONS["return/approve"]
    dispatcher = console.user("dispatcher")
    result = console.container.handle(
        task["id"],
        Requested(approve, approve.body()),
        Issuer(actor=dispatcher, role="dispatcher"),
    )
    console.container.after_command(result)

    page = new_page()
    sign_in(page, dispatcher, next_path=f"/console/cases/{case_id}/dispatch")
    lead = page.get_by_label("主办单位")
    assert lead.input_value() == ""  # nothing chosen for the dispatcher
    suggested = page.locator("optgroup[label=目录建议] option").all_inner_texts()
    assert suggested and "市生态环境局新城分局" not in suggested, suggested
    assert "西一路街道办事处" in suggested
    assert "已退回" in page.locator("option[value=envir]").inner_text()
    assert "不属环保职能" in page.locator("ul.returned").inner_text()
    assert page.locator("input[name=assist][value=envir]").is_checked() is False
    reason = page.locator("#routing-reason").inner_text()
    assert "does not match" not in reason and "已退回本案" in reason, reason
    assert not page.locator("details.rules").evaluate("d => d.open")
    shot(page, console, "44-manual-dispatch-after-return")

    lead.select_option("xyl-office")
    with page.expect_navigation():
        page.get_by_role("button", name="派单").click()
    assert page.locator(".flash.ok").inner_text() == "已派单。"


def test_a_dispatcher_rules_on_a_return_and_an_extension_inline(
    new_page: Any, console: Console
) -> None:
    returning_id, returning_no = file_case(console, description="油烟，申请退单")
    act_on_task(
        console,
        returning_id,
        "envir",
        lambda t: c.RequestReturn(task_id=t, reason="territory", basis="地址在长乐中路街道"),
    )
    later = console.container.clock() + timedelta(days=20)
    extending_id, extending_no = file_case(console, description="油烟，申请延期")
    act_on_task(
        console,
        extending_id,
        "envir",
        lambda t: c.SignTask(task_id=t),
        lambda t: Requested(
            TASK_ACTIONS["extension"],
            TASK_ACTIONS["extension"].body(reply_by=later, reason="需协调业主整改"),
        ),
    )
    page = new_page()
    sign_in(page, console.user("dispatcher"), next_path="/console/desk")
    returning = page.locator("#rulings tr", has_text=returning_no)
    extending = page.locator("#rulings tr", has_text=extending_no)
    assert "属地不符" in returning.inner_text() and "地址在长乐中路街道" in returning.inner_text()
    assert "需协调业主整改" in extending.inner_text()
    assert returning.get_by_role("button", name="驳回退单").is_visible()  # inline, no unfolding
    shot(page, console, "45-rulings-inline")

    returning.get_by_label("说明（选填）").fill("地址核实属西一路")
    with page.expect_navigation():
        returning.get_by_role("button", name="驳回退单").click()
    assert page.locator(".flash.ok").count() == 1
    with page.expect_navigation():
        page.locator("#rulings tr", has_text=extending_no).get_by_role(
            "button", name="同意延期"
        ).click()
    assert page.locator(".flash.ok").count() == 1
    assert page.locator("#rulings tr", has_text=returning_no).count() == 0
    assert page.locator("#rulings tr", has_text=extending_no).count() == 0
    types = [e.type for e in console.container.store.read_stream(returning_id)]
    assert "TaskReturnRejected" in types
    types = [e.type for e in console.container.store.read_stream(extending_id)]
    assert "ExtensionApproved" in types


def test_the_callback_form_has_no_rating_chosen_and_unsatisfied_leads_to_reopen_or_override(
    new_page: Any, console: Console
) -> None:
    case_id, number = file_case(console, description="油烟，待回访")
    act_on_task(
        console,
        case_id,
        "envir",
        lambda t: c.SignTask(task_id=t),
        lambda t: c.ReplyTask(task_id=t, resolution="已约谈餐馆"),
    )
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/callbacks")
    row = page.locator("#callbacks tr", has_text=number)
    row.locator("summary").click()
    radios = row.locator("input[type=radio]")
    assert radios.count() == 7
    assert row.locator("input[type=radio]:checked").count() == 0
    assert all(r.get_attribute("required") is not None for r in radios.all())
    shot(page, console, "46-callback-form-no-rating")

    row.get_by_role("button", name="记录回访").click()  # nothing chosen: the browser holds it
    assert "/console/callbacks" in page.url
    assert "CallbackRecorded" not in [e.type for e in console.container.store.read_stream(case_id)]

    row.get_by_role("radio", name="未解决", exact=True).check()
    row.get_by_role("radio", name="不满意", exact=True).check()
    with page.expect_navigation():
        row.get_by_role("button", name="记录回访").click()
    assert page.url.split("?")[0].endswith(f"/console/cases/{case_id}")
    page.locator("summary", has_text="结案").click()
    assert page.get_by_label("结案理由（回访不满意时必填）").get_attribute("required") is not None
    shot(page, console, "47-after-unsatisfied-callback")
    page.goto("/console/callbacks")
    assert page.locator("#callbacks tr", has_text=number).count() == 0

    dispatcher = new_page()  # 重办 is the dispatcher's ruling
    sign_in(dispatcher, console.user("dispatcher"), next_path=f"/console/cases/{case_id}")
    assert dispatcher.locator("summary", has_text="重办").count() == 1
