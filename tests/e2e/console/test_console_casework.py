"""Casework at the console, in Chromium: 诉求性质, 保密 and 直接答复 at intake, recall (撤回) to
the dispatchers' 待派单, closing after an unsatisfied callback, and a reply with its 影像证明
where the category asks for one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import Console, act_on_task, file_case, shot, sign_in
from test_console_photos import street_photo
from test_console_story import submit

from dispatch.catalogue.versions import load_catalogue
from dispatch.domain import commands as c
from dispatch.handlers import Complaint, Issuer, new_case_id
from dispatch.handlers.uploads import Upload, store_upload

SAMPLE_VERSION = 'version: "2026-11-sample"'
SMOKE = "{code: env.smoke, name: 餐饮油烟扰民, sla: general}"
MASKED = re.compile(r"^1\d\d\*{4}\d{4}$")
SAMPLE_CATALOGUE = Path(__file__).parents[3] / "dispatch/catalogue/samples/sample.yaml"


def event_types(console: Console, case_id: str) -> list[str]:
    return [event.type for event in console.container.store.read_stream(case_id)]


def fill_intake(page: Any, description: str, *, category: str, grid: str, phone: str) -> None:
    page.get_by_label("诉求类别").fill(category)
    page.get_by_label("网格").select_option(grid)
    page.get_by_label("诉求描述").fill(description)
    page.get_by_label("诉求人姓名").fill("赵先生")
    page.get_by_label("诉求人电话").fill(phone)


def file_anyway_if_warned(page: Any, button: str) -> None:
    """An earlier case of the same category nearby (the database is shared): file regardless."""
    if page.locator("#dup-title").count():
        submit(page, button)


def test_operator_answers_a_consultation_directly_and_it_is_never_dispatched(
    new_page: Any, console: Console
) -> None:
    page = new_page()
    sign_in(page, console.user("operator"), next_path="/console/intake")
    nature = page.get_by_label("诉求性质")
    assert nature.input_value() == "complaint"  # 投诉 unless the operator says otherwise
    words = f"咨询：老旧小区加装电梯怎么申请补贴 {uuid.uuid4().hex[:6]}"
    fill_intake(page, words, category="other.consult", grid="XYL-02", phone="13700137001")
    nature.select_option(label="咨询")
    page.locator("summary", has_text="直接答复").click()
    submit(page, "直接答复并办结")  # no answer written yet
    assert "请填写给诉求人的答复" in page.locator("#error-answer").inner_text()
    assert page.get_by_label("诉求描述").input_value() == words
    assert page.get_by_label("诉求性质").input_value() == "consult"

    page.get_by_label("答复市民的内容").fill("可向街道办提交加装电梯申请，补贴按市住建局文件执行。")
    shot(page, console, "30-intake-answer-directly")
    submit(page, "直接答复并办结")
    file_anyway_if_warned(page, "直接答复并办结")

    assert "已直接答复" in page.locator("h1").inner_text()
    assert page.get_by_test_id("answered-note").is_visible()
    assert page.get_by_test_id("nature").inner_text() == "咨询"
    assert "尚未派单" in page.locator("#tasks-title").locator("..").inner_text()
    shot(page, console, "31-case-answered-directly")
    case_id = page.url.split("/cases/")[1].split("?")[0]
    types = event_types(console, case_id)
    assert types[:2] == ["CaseReceived", "CaseAnswered"]
    assert "CaseDispatched" not in types and "CaseUnroutable" not in types

    number = page.get_by_test_id("case-no").inner_text()
    page.goto(f"/console/cases?q={number}")
    row = page.locator("table.list tr", has_text=number)
    assert row.locator("td.nature").inner_text() == "咨询"
    assert "已直接答复" in row.inner_text()


def test_the_liaison_of_a_confidential_callers_case_sees_the_phone_masked(
    new_page: Any, console: Console
) -> None:
    operator = new_page()
    sign_in(operator, console.user("operator"), next_path="/console/intake")
    words = "油烟扰民，来电人要求保密"
    fill_intake(operator, words, category="env.smoke", grid="XYL-03", phone="13600136002")
    operator.get_by_label("保密").check()
    submit(operator, "保存并派单")
    file_anyway_if_warned(operator, "仍然受理")
    assert operator.get_by_test_id("confidential").inner_text() == "保密"
    assert operator.get_by_test_id("caller-phone").inner_text() == "13600136002"  # the centre
    case_path = operator.url.split("?")[0].removeprefix(console.url)

    liaison = new_page()
    sign_in(liaison, console.user("liaison", department="envir"), next_path=case_path)
    assert liaison.locator(".task.dispatched").count() == 1  # the envir task is live
    assert MASKED.match(liaison.get_by_test_id("caller-phone").inner_text())
    assert liaison.get_by_test_id("call").count() == 0
    assert liaison.get_by_test_id("confidential").is_visible()
    assert "13600136002" not in liaison.content()
    shot(liaison, console, "32-confidential-liaison")


def test_a_dispatcher_recalls_a_dispatched_case_and_it_waits_on_the_dispatch_worklist(
    new_page: Any, console: Console
) -> None:
    case_id, number = file_case(console, description="油烟，派错了，撤回重派")
    page = new_page()
    sign_in(page, console.user("dispatcher"), next_path=f"/console/cases/{case_id}")
    assert "待签收" in page.locator(".task").inner_text()
    page.locator("summary", has_text="撤回").click()
    page.get_by_label("原因（选填）").fill("类别选错，应由城管处理")
    shot(page, console, "33-recall-form")
    submit(page, "撤回")

    assert page.locator(".flash.ok").inner_text() == "已撤回，工单回到待派单。"
    assert page.locator(".task.cancelled").count() == 1
    cancelled = console.container.store.read_stream(case_id)[-1]
    assert cancelled.type == "TaskCancelled"
    assert "类别选错，应由城管处理" in str(cancelled.data)
    page.goto("/console/worklists?key=dispatch")
    assert number in page.locator("#worklist-dispatch").inner_text()
    shot(page, console, "34-recalled-on-dispatch-list")


def test_a_recall_refused_because_the_department_signed_meanwhile_is_explained_in_chinese(
    new_page: Any, console: Console
) -> None:
    case_id, number = file_case(console, description="油烟，部门已经签收")
    page = new_page()
    sign_in(page, console.user("dispatcher"), next_path=f"/console/cases/{case_id}")
    page.locator("summary", has_text="撤回").click()
    act_on_task(console, case_id, "envir", lambda t: c.SignTask(task_id=t))  # in another office
    submit(page, "撤回")

    refusal = page.locator(".flash.error").inner_text()
    assert number in refusal and "市生态环境局新城分局" in refusal, refusal
    assert re.search(r"[\u4e00-\u9fff]{4}", refusal) and "in_progress" not in refusal
    assert case_id not in refusal
    assert "TaskCancelled" not in event_types(console, case_id)
    shot(page, console, "35-recall-refused")


def test_closing_after_an_unsatisfied_callback_asks_for_the_reason_and_records_it(
    new_page: Any, console: Console
) -> None:
    case_id, number = file_case(console, description="油烟，回访不满意")
    act_on_task(
        console,
        case_id,
        "envir",
        lambda t: c.SignTask(task_id=t),
        lambda t: c.ReplyTask(task_id=t, resolution="已约谈餐馆"),
    )
    page = new_page()
    sign_in(page, console.user("operator"), next_path=f"/console/cases/{case_id}")
    page.locator("summary", has_text="结案").click()
    assert page.get_by_label("结案理由（回访不满意时必填）").count() == 0  # no callback yet

    page.locator("summary", has_text="记录回访").click()
    page.get_by_role("radio", name="未解决", exact=True).check()
    page.get_by_role("radio", name="不满意", exact=True).check()
    submit(page, "记录回访")
    page.locator("summary", has_text="结案").click()
    reason = page.get_by_label("结案理由（回访不满意时必填）")
    assert reason.get_attribute("required") is not None
    assert "回访不满意" in page.locator("form[action$='/close'] .note").inner_text()
    reason.evaluate("field => field.removeAttribute('required')")  # as an older browser would
    submit(page, "结案")
    refusal = page.locator(".flash.error").inner_text()
    assert number in refusal and "不满意" in refusal and "重办" in refusal, refusal
    assert "CaseClosed" not in event_types(console, case_id)

    page.locator("summary", has_text="结案").click()
    reason = page.get_by_label("结案理由（回访不满意时必填）")
    reason.fill("市民诉求超出政策范围，已解释到位")
    shot(page, console, "36-close-override")
    submit(page, "结案")

    assert page.locator(".flash.ok").inner_text() == "已结案。"
    closed = [e for e in console.container.store.read_stream(case_id) if e.type == "CaseClosed"]
    assert closed[0].data["override_reason"] == "市民诉求超出政策范围，已解释到位"


@pytest.fixture
def smoke_needs_a_reply_photo(console: Console) -> Iterator[None]:
    """The sample catalogue with 餐饮油烟扰民 asking for an after-photo, then the sample again."""
    text = SAMPLE_CATALOGUE.read_text(encoding="utf-8")
    strict = text.replace(SAMPLE_VERSION, 'version: "2026-11-console-photo"').replace(
        SMOKE, SMOKE[:-1] + ", reply_requires_photo: true}"
    )
    assert strict.count("reply_requires_photo") == 1
    load_catalogue(console.container.engine, strict, loaded_by="tests")
    yield
    load_catalogue(console.container.engine, text, loaded_by="tests")


def file_case_with_photo(console: Console, description: str) -> str:
    """A complaint with its 随手拍 photo, filed and routed without the browser: its case id."""
    container = console.container
    operator = console.user("operator")
    before = store_upload(
        container.media_store,
        Upload(street_photo(), "现场.jpg", "image/jpeg"),
        max_bytes=10 * 1024 * 1024,
        stage="intake",
        by=operator.username,
    )
    complaint = Complaint(
        channel="phone",
        category="env.smoke",
        description=description,
        urgency="normal",
        address="西一路8号",
        grid="XYL-01",
        attachments=(before.command,),
    )
    result = container.handle(new_case_id(), complaint, Issuer(actor=operator, role="operator"))
    container.after_command(result)
    return result.case_id


@pytest.mark.usefixtures("smoke_needs_a_reply_photo")
def test_a_liaison_replies_with_a_photo_where_the_category_requires_one_and_sees_before_and_after(
    new_page: Any, console: Console
) -> None:
    case_id = file_case_with_photo(console, "油烟直排，附现场照片")
    act_on_task(console, case_id, "envir", lambda t: c.SignTask(task_id=t))
    page = new_page()
    liaison = console.user("liaison", department="envir")
    sign_in(page, liaison, next_path=f"/console/cases/{case_id}")
    task = page.locator("article.task")

    task.locator("summary", has_text="办结回复").click()
    task.get_by_label("办理结果").fill("已责令餐馆安装油烟净化器并复查合格")
    submit(page, "办结回复")  # no photo: refused, in Chinese
    assert "办结照片" in page.locator(".flash.error").inner_text()
    assert "TaskReplied" not in event_types(console, case_id)

    task.locator("summary", has_text="办结回复").click()
    task.get_by_label("办理结果").fill("已责令餐馆安装油烟净化器并复查合格")
    camera = task.get_by_label("办结照片（影像证明）")
    assert camera.get_attribute("accept") == "image/*"
    assert camera.get_attribute("capture") == "environment"
    camera.set_input_files(
        files=[{"name": "整改后.jpg", "mimeType": "image/jpeg", "buffer": street_photo()}]
    )
    assert "整改后.jpg" in task.locator("[data-chosen]").inner_text()
    shot(page, console, "37-reply-with-photo-form")
    submit(page, "办结回复")

    assert page.locator(".flash.ok").inner_text().startswith("已办结回复")
    log = console.container.store.read_stream(case_id)
    after = [e.version for e in log if e.type == "AttachmentAdded" and e.data["stage"] == "reply"]
    replied = [e.version for e in log if e.type == "TaskReplied"]
    assert len(after) == 1 and after[0] < replied[0]  # the photo first, then the reply
    for stage in ("intake", "reply"):
        thumb = page.locator(f".photo-column[data-stage={stage}] a.thumb img")
        assert thumb.count() == 1, stage
        thumb.evaluate("img => img.complete || new Promise(r => img.addEventListener('load', r))")
        assert thumb.evaluate("img => img.naturalWidth") == 320
    shot(page, console, "38-before-and-after")
