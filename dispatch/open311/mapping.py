"""Our vocabulary in GeoReport v2 terms: categories are services, cases are service requests.

A case is ``closed`` once nothing more will be done on it — closed (结案), answered directly
(直接答复) or merged into another case — and ``open`` otherwise; ``status_notes`` carries the
Chinese state a citizen would hear on the hotline. The reporter never appears here, and
phone numbers in any public text are masked (``mask_phones``): GET requests needs no key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.catalogue import Catalogue, Category, Duration
from dispatch.queries.masking import mask_phones

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CLOSED_STATES = ("closed", "answered", "merged")
STATUS_NOTES = {
    "received": "已受理",
    "dispatched": "已派单",
    "in_progress": "办理中",
    "replied": "已办结",
    "closed": "已结案",
    "answered": "已答复",
    "parked": "挂账办理",
    "merged": "已合并",
    "reopened": "重办中",
}
UNIT_NAMES = {"m": "分钟", "h": "小时", "wh": "个工作小时", "wd": "个工作日"}


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATES else "open"


def status_notes(status: str, *, unroutable: bool = False) -> str:
    if status == "received" and unroutable:
        return "已受理，待人工派单"
    return STATUS_NOTES.get(status, status)


def w3c_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with the offset, in the centre's time zone (SQLite returns naive UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).isoformat(timespec="seconds")


def duration_text(duration: Duration) -> str:
    return f"{duration.amount}{UNIT_NAMES[duration.unit]}"


def group_of(category: Category) -> str:
    return category.code.split(".", 1)[0]


def service(category: Category, catalogue: Catalogue) -> dict[str, Any]:
    policy = catalogue.sla.get(category.sla)
    description = category.name
    if policy is not None:
        description += (
            f"（{duration_text(policy.sign)}内签收，"
            f"{duration_text(policy.contact)}内联系，{duration_text(policy.reply)}内答复）"
        )
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": description,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": "",
        "group": group_of(category),
    }


def service_definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description or "",
                "order": order,
                "description": attribute.description,
                "values": [{"key": v.key, "name": v.name} for v in attribute.values],
            }
            for order, attribute in enumerate(category.attributes, start=1)
        ],
    }


def service_request(
    row: Mapping[Any, Any], reply_by: datetime | None, catalogue: Catalogue | None
) -> dict[str, Any]:
    """One case as a GeoReport service request (``row`` is a ``case_list`` row)."""
    zone = catalogue.zone if catalogue is not None else ZoneInfo("Asia/Shanghai")
    category = catalogue.category(row["category"]) if catalogue is not None else None
    lead = row["lead_department"]
    department = catalogue.department(lead) if catalogue is not None and lead else None
    return {
        "service_request_id": row["case_no"],
        "status": open311_status(row["status"]),
        "status_notes": status_notes(row["status"], unroutable=bool(row["unroutable"])),
        "service_name": category.name if category is not None else row["category"],
        "service_code": row["category"],
        "description": public_text(row["description"]),
        "agency_responsible": department.name if department is not None else lead,
        "service_notice": None,
        "requested_datetime": w3c_time(row["received_at"], zone),
        "updated_datetime": w3c_time(row["updated_at"], zone),
        "expected_datetime": w3c_time(reply_by, zone),
        "address": public_text(row["address"]),
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row["media_url"] or "",
    }


def public_text(text: str | None) -> str | None:
    """Text as the public may read it: phone numbers masked, in every form."""
    return mask_phones(text)
