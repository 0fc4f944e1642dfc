"""GeoReport v2 documents in JSON and XML: one payload, two renderings.

Every resource ends in ``.json`` or ``.xml``. The XML shapes are the spec's: a root element,
one child per item (``<services><service>…``), and a container per list field with one child
per entry (``<formats><format>…``, ``<attributes><attribute>…``, ``<values><value>…``).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from enum import StrEnum
from typing import Any

from fastapi.responses import Response


class Format(StrEnum):
    JSON = "json"
    XML = "xml"


class Document(StrEnum):
    """What a response is; each names its XML root and item elements."""

    DISCOVERY = "discovery"
    SERVICES = "services"
    SERVICE_DEFINITION = "service_definition"
    SERVICE_REQUESTS = "service_requests"
    ERRORS = "errors"


XML_SHAPE: dict[Document, tuple[str, str | None]] = {
    Document.DISCOVERY: ("discovery", None),
    Document.SERVICES: ("services", "service"),
    Document.SERVICE_DEFINITION: ("service_definition", None),
    Document.SERVICE_REQUESTS: ("service_requests", "request"),
    Document.ERRORS: ("errors", "error"),
}
LIST_ITEMS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
MEDIA_TYPES = {
    Format.JSON: "application/json; charset=utf-8",
    Format.XML: "text/xml; charset=utf-8",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot hold at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_format(text: str) -> Format | None:
    try:
        return Format(text.lower())
    except ValueError:
        return None


def format_of_path(path: str) -> Format:
    """The format a response to ``path`` should use: XML for ``….xml``, else JSON."""
    return Format.XML if path.lower().endswith(".xml") else Format.JSON


def render(fmt: Format, document: Document, payload: Any, *, status: int = 200) -> Response:
    if fmt is Format.XML:
        body = to_xml(document, payload)
    else:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status, media_type=MEDIA_TYPES[fmt])


def to_xml(document: Document, payload: Any) -> str:
    root_name, item_name = XML_SHAPE[document]
    root = ET.Element(root_name)
    if item_name is None:
        _fill(root, payload)
    else:
        for entry in payload:
            _fill(ET.SubElement(root, item_name), entry)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode")


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            if isinstance(child, list):
                holder = ET.SubElement(element, key)
                for entry in child:
                    _fill(ET.SubElement(holder, LIST_ITEMS.get(key, "item")), entry)
            else:
                _fill(ET.SubElement(element, key), child)
    else:
        element.text = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))
