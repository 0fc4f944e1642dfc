"""The message each delivery type sends, as its receiver documents it. No I/O.

企业微信群机器人: ``{"msgtype": "markdown", "markdown": {"content": …}}`` to the robot's URL
(its key is in the URL). 钉钉群机器人: ``{"msgtype": "markdown", "markdown": {"title": …,
"text": …}}``; a robot with 加签 takes ``&timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256
(secret, "<timestamp>\\n<secret>")>`` on its URL. An SMS gateway: the catalogue's template
with ``{phone}``, ``{text}``, ``{case_no}``, ``{kind}`` filled in, each value escaped for
where it stands (JSON string, form field, URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote, quote_plus

from dispatch.delivery.notices import Notice

SMS_MAX = 140  # characters: a long SMS is split and billed per part; keep to about two


def markdown(notice: Notice) -> str:
    lines = [f"### {notice.title}", notice.text]
    if notice.deadlines is not None:
        lines.append(f"> 任务：{notice.task_id} · 部门：{notice.department}")
    return "\n\n".join(lines)


def wecom_message(notice: Notice) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"content": markdown(notice)}}


def dingtalk_message(notice: Notice) -> dict[str, Any]:
    return {"msgtype": "markdown", "markdown": {"title": notice.title, "text": markdown(notice)}}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign``: base64 HMAC-SHA256 of ``"<timestamp>\\n<secret>"``, URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    if not secret:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def sms_text(notice: Notice) -> str:
    return notice.text if len(notice.text) <= SMS_MAX else notice.text[: SMS_MAX - 1] + "…"


def fill(template: str, values: dict[str, str], escape: str) -> str:
    """Replace ``{name}`` tokens (not ``str.format``: a JSON template is full of braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", _escaped(value, escape))
    return template


def _escaped(value: str, escape: str) -> str:
    if escape == "json":
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if escape == "form":
        return quote_plus(value)
    if escape == "url":
        return quote(value, safe="")
    return value


def body_escape(content_type: str) -> str:
    if "json" in content_type:
        return "json"
    if "x-www-form-urlencoded" in content_type:
        return "form"
    return "raw"


def sms_values(notice: Notice, phone: str) -> dict[str, str]:
    text = sms_text(notice)
    return {"phone": phone, "text": text, "case_no": notice.case_no, "kind": notice.kind}
