"""POST requests: a GeoReport form becomes a ``Complaint`` with channel ``open311``.

Everything the form carries is checked here and refused with a 400 that names the field, so
the handler only ever sees well-formed input. Answers to the category's extra questions
(``attribute[code]``, ``attribute[code][]`` for a multi-value list) are appended to the
description, one line per question, in the catalogue's order. ``email`` and ``device_id``
are accepted and not kept: the vault holds a reporter's name and phone only. ``media_url`` is
kept as a link (http or https, checked here) and shown again on GET; it is never fetched, so
a link can neither make this server call another nor bring a file in unchecked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlsplit

from dispatch.catalogue import Catalogue, Category
from dispatch.catalogue.model import Attribute
from dispatch.handlers import Complaint
from dispatch.handlers.text import has_control_characters
from dispatch.open311.errors import Open311Error

CHANNEL = "open311"
DESCRIPTION_MAX = 4000
NAME_MAX = 50
ADDRESS_MAX = 300
MEDIA_URL_MAX = 2000
PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")

Form = Mapping[str, Sequence[str]]  # every value a field was given, in order


def complaint_from_form(form: Form, catalogue: Catalogue) -> Complaint:
    code = _text(form, "service_code", 64)
    if not code:
        raise Open311Error(400, "service_code is required: GET services.json lists them")
    category = catalogue.category(code)
    if category is None:
        raise Open311Error(400, f"service_code {code!r} is not a service: see services.json")
    lat, lon = _coordinates(form)
    address = _text(form, "address_string", ADDRESS_MAX) or _address_id(form)
    if lat is None and not address:
        raise Open311Error(
            400, "a location is required: lat and long, address_string or address_id"
        )
    name = _full_name(_text(form, "first_name", 25), _text(form, "last_name", 25))
    phone = _text(form, "phone", 20)
    if phone and not PHONE.match(phone):
        raise Open311Error(400, "phone: digits, optionally with +, spaces or dashes")
    return Complaint(
        channel=CHANNEL,
        category=category.code,
        description=_description(form, category),
        urgency="normal",
        address=address,
        lat=lat,
        lon=lon,
        reporter_name=name[:NAME_MAX] or None,
        reporter_phone=phone,
        media_url=_media_url(form),
    )


def _media_url(form: Form) -> str | None:
    url = _text(form, "media_url", MEDIA_URL_MAX)
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise Open311Error(400, "media_url must be an http:// or https:// link to the picture")
    if any(ch.isspace() for ch in url) or parts.username or parts.password:
        raise Open311Error(400, "media_url: a plain link, without spaces or a user name in it")
    return url


def _text(form: Form, field: str, limit: int) -> str | None:
    values = form.get(field) or []
    value = values[-1].strip() if values else ""
    if has_control_characters(value):
        raise Open311Error(400, f"{field} may not contain control characters")
    if len(value) > limit:
        raise Open311Error(400, f"{field} is longer than {limit} characters")
    return value or None


def _full_name(first: str | None, last: str | None) -> str:
    """张 + 三 → 张三 (family name first, no space); John + Doe → John Doe."""
    parts = [part for part in (first, last) if part]
    if any(ord(ch) > 0x2E7F for part in parts for ch in part):
        return "".join(part for part in (last, first) if part)
    return " ".join(parts)


def _address_id(form: Form) -> str | None:
    address_id = _text(form, "address_id", 100)
    return f"地址编号 {address_id}" if address_id else None


def _coordinates(form: Form) -> tuple[float | None, float | None]:
    lat_text, lon_text = _text(form, "lat", 32), _text(form, "long", 32)
    if lat_text is None and lon_text is None:
        return None, None
    if lat_text is None or lon_text is None:
        raise Open311Error(400, "lat and long go together: give both or neither")
    lat, lon = _number("lat", lat_text), _number("long", lon_text)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, "lat must be within ±90 and long within ±180 (WGS 84 degrees)")
    return lat, lon


def _number(field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{field} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{field} must be a finite number")
    return value


def _description(form: Form, category: Category) -> str:
    text = _text(form, "description", DESCRIPTION_MAX) or category.name
    answers = _answers(form, category)
    lines = [f"{attribute.description}：{answer}" for attribute, answer in answers]
    return "\n".join([text, *lines]) if lines else text


def _answers(form: Form, category: Category) -> list[tuple[Attribute, str]]:
    given: dict[str, list[str]] = {}
    for key, values in form.items():
        match = ATTRIBUTE_KEY.match(key)
        if match is None:
            continue
        given.setdefault(match.group(1), []).extend(v.strip() for v in values if v.strip())
    known = {attribute.code: attribute for attribute in category.attributes}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise Open311Error(
            400, f"service {category.code!r} has no attribute {unknown[0]!r}: see its definition"
        )
    answers = []
    for attribute in category.attributes:
        values = given.get(attribute.code, [])
        if not values:
            if attribute.required:
                raise Open311Error(400, f"attribute[{attribute.code}] is required")
            continue
        answers.append((attribute, _answer(attribute, values)))
    return answers


def _answer(attribute: Attribute, values: list[str]) -> str:
    field = f"attribute[{attribute.code}]"
    if any(has_control_characters(v) or len(v) > 500 for v in values):
        raise Open311Error(400, f"{field}: at most 500 characters, no control characters")
    if attribute.datatype in ("singlevaluelist", "multivaluelist"):
        names = {value.key: value.name for value in attribute.values}
        if attribute.datatype == "singlevaluelist" and len(values) > 1:
            raise Open311Error(400, f"{field} takes one value")
        for value in values:
            if value not in names:
                keys = ", ".join(names)
                raise Open311Error(400, f"{field}: {value!r} is not one of the keys {keys}")
        return "、".join(names[value] for value in values)
    if len(values) > 1:
        raise Open311Error(400, f"{field} takes one value")
    value = values[0]
    if attribute.datatype == "number":
        _number(field, value)
    elif attribute.datatype == "datetime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise Open311Error(400, f"{field} must be a date and time in ISO 8601") from None
    return value
