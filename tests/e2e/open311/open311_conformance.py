"""Checks that a response is GeoReport v2: JSON against the schemas in ``schemas/``, XML by
its root, item and field elements."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

OPEN311 = "/open311/v2"
SCHEMAS = Path(__file__).with_name("schemas")
W3C_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")

formats = FormatChecker()


@formats.checks("w3c-date-time")
def _w3c_date_time(value: object) -> bool:
    """The spec's subset of ISO 8601: date, time and a zone (Z or ±HH:MM)."""
    if not isinstance(value, str) or not W3C_DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value)
    return True


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=formats)


def check_json(name: str, payload: Any) -> None:
    """Raise with every violation listed when ``payload`` does not match schema ``name``."""
    errors = sorted(validator(name).iter_errors(payload), key=lambda e: list(e.absolute_path))
    if errors:
        detail = "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
        raise AssertionError(f"not a GeoReport v2 {name} document:\n{detail}")


# The elements the spec names for each item of each document.
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url", "token", "account_id",
}  # fmt: skip
SERVICE_FIELDS = {
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
}  # fmt: skip


def parse_xml(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>'), text[:60]
    return ET.fromstring(text.encode("utf-8"))


def check_xml_list(text: str, root: str, item: str, fields: set[str]) -> list[ET.Element]:
    """``<root><item><field/>…</item>…</root>``: every child an ``item`` with known fields."""
    element = parse_xml(text)
    assert element.tag == root, element.tag
    items = list(element)
    for child in items:
        assert child.tag == item, child.tag
        unknown = {field.tag for field in child} - fields
        assert not unknown, f"<{item}> has elements the spec does not name: {unknown}"
    return items


def check_xml_errors(text: str, code: int) -> str:
    errors = check_xml_list(text, "errors", "error", {"code", "description"})
    assert len(errors) == 1
    assert errors[0].findtext("code") == str(code)
    description = errors[0].findtext("description") or ""
    assert description
    return description


def check_json_errors(payload: Any, code: int) -> str:
    check_json("errors", payload)
    assert payload[0]["code"] == code
    return str(payload[0]["description"])
