"""How a department hears from the centre (送达方式): a department's ``delivery`` setting.

``inbox`` (the built-in inbox) · ``webhook`` (the department's own system, signed JSON) ·
``wecom`` (企业微信群机器人) · ``dingtalk`` (钉钉群机器人) · ``sms`` (an HTTP SMS gateway).

Whoever loads a catalogue decides where case data is posted (docs/operations.md), so every
URL must speak https unless ``allow_http: true`` says the receiver is on the centre's own
network. Secrets need not sit in the catalogue: each secret field has an ``*_env`` twin that
names an environment variable the workers read when they send (``secret_env``, ``url_env``
for a robot whose key is in its URL, ``auth_value_env`` for an SMS gateway's credential).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

WEBHOOK_SECRET_MIN = 32
DELIVERY_TYPES = ("inbox", "webhook", "wecom", "dingtalk", "sms")
SMS_PLACEHOLDERS = frozenset({"phone", "text", "case_no", "kind"})
# Which settings each type reads; any other one given is a mistake worth reporting.
FIELDS_OF: dict[str, frozenset[str]] = {
    "inbox": frozenset(),
    "webhook": frozenset({"url", "url_env", "secret", "secret_env", "allow_http"}),
    "wecom": frozenset({"url", "url_env", "allow_http"}),
    "dingtalk": frozenset({"url", "url_env", "secret", "secret_env", "allow_http"}),
    "sms": frozenset(
        {
            "url",
            "url_env",
            "allow_http",
            "method",
            "content_type",
            "body",
            "auth_header",
            "auth_value_env",
            "phones",
        }
    ),
}

EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9-]{4,19}$")]
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Delivery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["inbox", "webhook", "wecom", "dingtalk", "sms"] = "inbox"
    url: str | None = None
    url_env: EnvName | None = None
    secret: str | None = None
    secret_env: EnvName | None = None
    allow_http: bool = False
    # sms only
    method: Literal["POST", "PUT", "GET"] = "POST"
    content_type: str = "application/json"
    body: str | None = None
    auth_header: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    auth_value_env: EnvName | None = None
    phones: list[Phone] = []

    @model_validator(mode="after")
    def _settings_fit_the_type(self, info: ValidationInfo) -> Delivery:
        if self.type == "inbox":
            return self
        # Compared with the defaults, not ``model_fields_set``: a catalogue dumped and read
        # back (a stored version) carries every field.
        given = {
            name
            for name, spec in type(self).model_fields.items()
            if getattr(self, name) != spec.get_default(call_default_factory=True)
        }
        stray = sorted(given - FIELDS_OF[self.type] - {"type"})
        if stray:
            raise ValueError(
                f"{', '.join(stray)} cannot be set on a {self.type} delivery; "
                f"it takes {', '.join(sorted(FIELDS_OF[self.type]))}"
            )
        self._check_url((info.context or {}).get("stored", False))
        if self.secret is not None and self.secret_env is not None:
            raise ValueError("give secret or secret_env, not both")
        if self.type == "webhook":
            self._check_webhook_secret((info.context or {}).get("stored", False))
        if self.type == "sms":
            self._check_sms()
        return self

    def _check_url(self, stored: bool) -> None:
        if self.url is not None and self.url_env is not None:
            raise ValueError("give url or url_env, not both")
        if self.url is None and self.url_env is None:
            raise ValueError(
                f"a {self.type} delivery needs a url (or url_env: the name of an environment "
                "variable holding it, for a robot whose key is part of the URL)"
            )
        if self.url is None:
            return
        if not self.url.startswith(("https://", "http://")):
            raise ValueError(f"{self.type} url {self.url!r} must start with https://")
        if self.url.startswith("http://") and not self.allow_http and not stored:
            raise ValueError(
                f"{self.type} url {self.url!r} is plain http: use https://, or add "
                "allow_http: true for a receiver on the centre's own network"
            )

    def _check_webhook_secret(self, stored: bool) -> None:
        if self.secret_env is not None or stored:
            return
        if len(self.secret or "") < WEBHOOK_SECRET_MIN:
            raise ValueError(
                f"a webhook needs a secret of at least {WEBHOOK_SECRET_MIN} characters to sign "
                "its deliveries (or secret_env: the name of an environment variable holding "
                "it); make one with: python -c "
                "'import secrets; print(secrets.token_urlsafe(32))'"
            )

    def _check_sms(self) -> None:
        if not self.phones:
            raise ValueError("an sms delivery needs phones: the department's duty numbers")
        if not self.body:
            raise ValueError(
                'an sms delivery needs a body template, e.g. \'{"to": "{phone}", '
                '"content": "{text}"}\''
            )
        used = set(_PLACEHOLDER.findall(self.body)) | set(_PLACEHOLDER.findall(self.url or ""))
        unknown = sorted(used - SMS_PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}} in the sms template; "
                f"use {', '.join('{' + p + '}' for p in sorted(SMS_PLACEHOLDERS))}"
            )
        if "text" not in used:
            raise ValueError("the sms body template must contain {text}: the message itself")
        if (self.auth_header is None) != (self.auth_value_env is None):
            raise ValueError(
                "give auth_header and auth_value_env together: the header's name, and the "
                "environment variable holding its value"
            )
