"""What a viewer may see of a reporter: phone numbers masked for all but the hotline staff."""

from __future__ import annotations

import copy
from typing import Any

from dispatch.queries.scope import Viewer, roles_of

PHONE_ROLES = frozenset({"operator", "dispatcher"})


def mask_phone(phone: str | None) -> str | None:
    """``13800138000`` → ``138****8000``: the area/carrier prefix and the last four stay,
    which is what a department needs to recognise a caller and no more."""
    if phone is None:
        return None
    phone = phone.strip()
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def sees_phone_numbers(viewer: Viewer) -> bool:
    return bool(roles_of(viewer) & PHONE_ROLES)


def present_case(case: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The case as ``viewer`` may see it; the caller's dict is left untouched."""
    if sees_phone_numbers(viewer) or not case.get("reporter"):
        return case
    shown = copy.copy(case)
    shown["reporter"] = {**case["reporter"], "phone": mask_phone(case["reporter"].get("phone"))}
    return shown
