"""Sending one delivery over the department's channel: signed webhook, 企业微信 or 钉钉 robot,
SMS gateway. Each ``send_*`` returns when the receiver accepted the message and raises
``SendFailed`` otherwise; the caller counts the attempt, retries and finally dead-letters.

Webhook: POST the JSON body with

    X-Street-Whistle-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by the secret>
    X-Street-Whistle-Timestamp: <unix seconds>   (also in the signed body as ``sent_at``)
    X-Street-Whistle-Delivery:  <task or notice id> (the receiver's idempotency key)

Robots answer HTTP 200 with ``{"errcode": 0, …}``; any other errcode is a failure (a bad
signature, a rate limit, a removed robot). Only the status, the errcode and a short errmsg
are kept, never a response body: a receiver's error page may echo the case back. At most
``RESPONSE_READ_MAX`` bytes of an answer are read, so a receiver cannot make a worker hold
a huge or endless one. Settings named ``*_env`` are read from the worker's environment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from datetime import datetime
from typing import Any

import httpx

from dispatch.catalogue import Delivery
from dispatch.delivery.formats import (
    body_escape,
    dingtalk_message,
    dingtalk_url,
    fill,
    sms_values,
    wecom_message,
)
from dispatch.delivery.notices import Notice

SIGNATURE_HEADER = "X-Street-Whistle-Signature"
TIMESTAMP_HEADER = "X-Street-Whistle-Timestamp"
DELIVERY_HEADER = "X-Street-Whistle-Delivery"
RESPONSE_READ_MAX = 64 * 1024
JSON = "application/json; charset=utf-8"


class SendFailed(Exception):
    pass


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=<hex HMAC-SHA256(secret, body)>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a department's receiver does with the header (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, body), header)


def setting(target: Delivery, name: str) -> str | None:
    """A setting's value, from the catalogue or from the environment variable it names."""
    env = getattr(target, f"{name}_env")
    if env is None:
        value: str | None = getattr(target, name)
        return value
    value = os.environ.get(env)
    if not value:
        raise SendFailed(f"environment variable {env} ({name} of the delivery) is not set")
    return value


def send(
    target: Delivery,
    notice: Notice,
    *,
    webhook_body: bytes,
    key: str,
    sent_at: datetime,
    timeout: float,
) -> None:
    """Send ``notice`` the department's way; ``webhook_body`` is what a webhook receives."""
    if target.type == "webhook":
        send_webhook(target, key, webhook_body, sent_at=sent_at, timeout=timeout)
    elif target.type == "wecom":
        _robot(_url(target), wecom_message(notice), timeout=timeout)
    elif target.type == "dingtalk":
        stamp = int(sent_at.timestamp() * 1000)
        url = dingtalk_url(_url(target), setting(target, "secret"), stamp)
        _robot(url, dingtalk_message(notice), timeout=timeout)
    elif target.type == "sms":
        send_sms(target, notice, timeout=timeout)
    else:
        raise SendFailed(f"{target.type} deliveries are not sent anywhere")


def send_webhook(
    target: Delivery, key: str, body: bytes, *, sent_at: datetime, timeout: float
) -> None:
    headers = {
        "Content-Type": JSON,
        SIGNATURE_HEADER: sign(setting(target, "secret") or "", body),
        TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
        DELIVERY_HEADER: key,
    }
    status, _answer = _request("POST", _url(target), body, headers, timeout=timeout)
    _expect_2xx(status)


def send_sms(target: Delivery, notice: Notice, *, timeout: float) -> None:
    """One request per duty phone; any refusal fails the attempt (and the retry sends all)."""
    headers = {"Content-Type": target.content_type}
    if target.auth_header is not None:
        headers[target.auth_header] = setting(target, "auth_value") or ""
    for phone in target.phones:
        values = sms_values(notice, phone)
        url = fill(_url(target), values, "url")
        body = fill(target.body or "", values, body_escape(target.content_type))
        content = body.encode() if target.method != "GET" else None
        status, _answer = _request(target.method, url, content, headers, timeout=timeout)
        _expect_2xx(status)


def _url(target: Delivery) -> str:
    url = setting(target, "url")
    if not url:
        raise SendFailed("the delivery has no url")
    return url


def _robot(url: str, message: dict[str, Any], *, timeout: float) -> None:
    body = json.dumps(message, ensure_ascii=False).encode()
    status, answer = _request("POST", url, body, {"Content-Type": JSON}, timeout=timeout)
    _expect_2xx(status)
    try:
        reply = json.loads(answer)
    except ValueError:
        raise SendFailed(f"HTTP {status}, an answer that is not JSON") from None
    code = reply.get("errcode") if isinstance(reply, dict) else None
    if code != 0:
        errmsg = str(reply.get("errmsg", ""))[:200] if isinstance(reply, dict) else ""
        raise SendFailed(f"errcode {code}: {errmsg}".rstrip(": "))


def _expect_2xx(status: int) -> None:
    if not 200 <= status < 300:
        raise SendFailed(f"HTTP {status}")


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False, headers={"User-Agent": "street-whistle"})
        return _client


def _request(
    method: str, url: str, body: bytes | None, headers: dict[str, str], *, timeout: float
) -> tuple[int, bytes]:
    """Status and at most ``RESPONSE_READ_MAX`` bytes of the answer."""
    try:
        with _http().stream(
            method, url, content=body, headers=headers, timeout=timeout
        ) as response:
            answer = bytearray()
            for chunk in response.iter_bytes():
                answer.extend(chunk)
                if len(answer) >= RESPONSE_READ_MAX:
                    break
    except httpx.HTTPError as error:
        raise SendFailed(f"{type(error).__name__}: {_without_query(str(error))}") from error
    return response.status_code, bytes(answer[:RESPONSE_READ_MAX])


def _without_query(message: str) -> str:
    """An error may quote the URL, whose query holds a robot's key or a signature."""
    return message.split("?", 1)[0]
