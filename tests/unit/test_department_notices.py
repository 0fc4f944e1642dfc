"""Which departments an event concerns, what they are told, and how each channel words it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import unquote_plus

import pytest
from builders import T0, assignment, dispatched, given, received

from dispatch.catalogue import Delivery
from dispatch.delivery.formats import dingtalk_url, fill, sms_text, wecom_message
from dispatch.delivery.notices import Names, addressees, notice_for
from dispatch.delivery.queues import deliver_notice_job
from dispatch.domain import events as ev

NAMES = Names(departments={"roads": "市政道路", "water": "自来水公司"})


def two_tasks_one_returned() -> tuple[list[ev.Event], str, str]:
    roads, water = assignment("roads"), assignment("water", role="assist")
    history = [
        received(),
        dispatched(roads),
        dispatched(water),
        ev.TaskReturnRequested(task_id=water.task_id, reason="remit", basis="不归我们管"),
        ev.TaskReturnApproved(task_id=water.task_id),
    ]
    return history, roads.task_id, water.task_id


def test_an_urge_naming_no_department_concerns_every_department_with_an_open_task() -> None:
    history, roads_task, _water_task = two_tasks_one_returned()
    urge = ev.CaseUrged(level="reminder", note="快点")
    assert addressees(given(*history, urge), urge) == [("roads", roads_task)]


def test_an_urge_naming_a_department_concerns_it_even_without_an_open_task() -> None:
    history, _roads_task, water_task = two_tasks_one_returned()
    urge = ev.CaseUrged(level="supervision", note="督办", department="water")
    assert addressees(given(*history, urge), urge) == [("water", water_task)]


def test_a_ruling_concerns_the_department_of_its_task() -> None:
    history, _roads_task, water_task = two_tasks_one_returned()
    assert addressees(given(*history), history[-1]) == [("water", water_task)]


def test_notices_are_short_chinese_and_carry_no_reporter_data() -> None:
    a = assignment("roads")
    warning = ev.SlaWarningRaised(
        task_id=a.task_id, stage="reply", level="red", deadline=T0.replace(hour=10)
    )
    state = given(received(), dispatched(a), warning)
    notice = notice_for(state, warning, "roads", NAMES)
    assert notice is not None
    assert notice.kind == "sla.warning" and notice.text.startswith("【12345超期】")
    assert "18:00" in notice.text  # 10:00 UTC in Asia/Shanghai
    assert notice.deadlines is not None and notice.task_id == a.task_id
    assert "reporter" not in json.dumps(notice.payload(), ensure_ascii=False)


def test_an_extension_ruling_tells_the_new_reply_by() -> None:
    a = assignment("roads")
    approved = ev.ExtensionApproved(task_id=a.task_id, reply_by=T0.replace(day=20, hour=1))
    notice = notice_for(given(received(), dispatched(a), approved), approved, "roads", NAMES)
    assert notice is not None and notice.kind == "task.extension_ruled"
    assert notice.what["decision"] == "approved" and "03-20 09:00" in notice.text


def test_one_job_per_event_and_department_whatever_the_relay_does() -> None:
    first = deliver_notice_job("case-1", 7, "roads")
    assert first.id == deliver_notice_job("case-1", 7, "roads").id
    assert first.id != deliver_notice_job("case-1", 7, "water").id
    assert first.queue == "dept:roads"


def test_the_dingtalk_signature_is_the_documented_one() -> None:
    secret, stamp = "SECabc", 1700000000000
    url = dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=t", secret, stamp)
    sign = unquote_plus(url.split("&sign=")[1])
    mac = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert sign == base64.b64encode(mac).decode()
    assert f"&timestamp={stamp}&sign=" in url


def test_wecom_gets_a_markdown_message() -> None:
    a = assignment("roads")
    urge = ev.CaseUrged(level="reminder", note="请抓紧")
    notice = notice_for(given(received(), dispatched(a), urge), urge, "roads", NAMES)
    assert notice is not None
    message = wecom_message(notice)
    assert message["msgtype"] == "markdown" and "请抓紧" in message["markdown"]["content"]


def test_sms_values_are_escaped_for_where_they_stand() -> None:
    template = '{"to": "{phone}", "text": "{text}"}'
    body = fill(template, {"phone": "139", "text": 'say "hi"\n'}, "json")
    assert json.loads(body) == {"to": "139", "text": 'say "hi"\n'}
    assert fill("a={text}", {"text": "a b&c"}, "form") == "a=a+b%26c"


def test_a_long_sms_is_cut_short() -> None:
    a = assignment("roads")
    urge = ev.CaseUrged(level="reminder", note="很" * 300)
    notice = notice_for(given(received(), dispatched(a), urge), urge, "roads", NAMES)
    assert notice is not None and len(sms_text(notice)) == 140


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"type": "wecom"}, "needs a url"),
        ({"type": "wecom", "url": "http://robot.local/send"}, "allow_http"),
        ({"type": "wecom", "url": "https://x/send", "secret": "s"}, "cannot be set on a wecom"),
        ({"type": "dingtalk", "url": "https://x", "secret": "a", "secret_env": "B"}, "not both"),
        ({"type": "sms", "url": "https://gw/send", "body": "{text}"}, "needs phones"),
        ({"type": "sms", "url": "https://gw", "phones": ["13900000001"]}, "body template"),
        (
            {"type": "sms", "url": "https://gw", "phones": ["13900000001"], "body": "{msg}"},
            "unknown placeholder {msg}",
        ),
        (
            {"type": "sms", "url": "https://gw", "phones": ["1390"], "body": "{text}"},
            "phones",
        ),
        (
            {"type": "sms", "url": "https://gw", "phones": ["13900000001"], "body": "{text}",
             "auth_header": "X-Auth"},
            "auth_value_env",
        ),
        ({"type": "webhook", "url": "https://x", "secret_env": "bad name"}, "secret_env"),
    ],
)  # fmt: skip
def test_each_delivery_type_says_what_its_settings_lack(setting: dict[str, object], problem: str):
    with pytest.raises(ValueError, match=None) as raised:
        Delivery.model_validate(setting)
    assert problem in str(raised.value)


def test_a_webhook_secret_may_live_in_the_environment() -> None:
    delivery = Delivery.model_validate(
        {"type": "webhook", "url": "https://x/12345", "secret_env": "CITY_WEBHOOK_SECRET"}
    )
    assert delivery.secret is None and delivery.secret_env == "CITY_WEBHOOK_SECRET"
