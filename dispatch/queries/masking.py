"""What a viewer may see of a reporter: phone numbers masked for all but the hotline staff,
and the liaison who must call the reporter back.

``mask_phone`` masks one number (the reporter's, from the vault); ``mask_phones`` finds the
numbers a citizen typed into free text — mobiles with or without ``+86`` and separators,
landlines with an area code (``010-12345678``, ``(0571) 8765 4321``) — and masks each one.
Public text (Open311), what liaisons and supervisors read, and the ledger all go through it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from dispatch.queries.scope import Viewer, roles_of

PHONE_ROLES = frozenset({"operator", "dispatcher"})
# A task its department still works on: it must be able to call the reporter (联系诉求人).
LIVE_TASK = frozenset({"dispatched", "signed", "contacted", "return_requested"})

_SEP = r"[\s\-.]?"
# +86, 0086 or (+86) in front of the number, perhaps with a separator after it.
_COUNTRY = r"(?:(?:\+|00)\s?86|\(\+?86\))[\s\-.]?"
_MOBILE = rf"1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}"
# Area codes are 010, 02x or 0xxx; the number 7 or 8 digits, perhaps split 3-4 or 4-4.
_AREA = r"(?:\(0\d{2,3}\)|0\d{2,3})"
_LANDLINE = rf"{_AREA}[\s\-.]?\d{{3,4}}{_SEP}\d{{4}}"
PHONE_IN_TEXT = re.compile(rf"(?<![\d+])(?:{_COUNTRY})?(?:{_MOBILE}|{_LANDLINE})(?!\d)", re.ASCII)
FULL_WIDTH = str.maketrans("０１２３４５６７８９＋（）－", "0123456789+()-")


def mask_phone(phone: str | None) -> str | None:
    """``13800138000`` → ``138****8000``: the area/carrier prefix and the last four stay,
    which is what a department needs to recognise a caller and no more."""
    if phone is None:
        return None
    phone = phone.strip()
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def mask_phones(text: str | None) -> str | None:
    """``text`` with every phone number in it masked as ``mask_phone`` masks one, with the
    country code and separators gone, so no form of the number (``138-0013-8000``,
    ``+86 138 0013 8000``, ``010-12345678``) survives. Full-width digits count as digits."""
    if not text:
        return text
    # Translation is character for character, so positions in ``normal`` are ``text``'s.
    normal = text.translate(FULL_WIDTH)
    out, last = [], 0
    for match in PHONE_IN_TEXT.finditer(normal):
        out += [text[last : match.start()], _masked(match.group(0))]
        last = match.end()
    return "".join([*out, text[last:]])


def _masked(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if len(digits) > 11 and digits.startswith(("86", "0086")):
        digits = digits[-11:]  # the mobile after the country code
    return mask_phone(digits) or ""


def sees_phone_numbers(viewer: Viewer) -> bool:
    return bool(roles_of(viewer) & PHONE_ROLES)


def liaison_sees_phone(case: dict[str, Any], viewer: Viewer) -> bool:
    """A liaison whose department holds a live task on ``case`` sees the reporter's full
    phone — unless the reporter asked to stay confidential (保密); once the task is replied,
    returned or cancelled, the phone is masked again. Such a view is to be logged
    (``dispatch.queries.phone_views``)."""
    department = viewer.department
    if "liaison" not in roles_of(viewer) or not department:
        return False
    reporter = case.get("reporter") or {}
    if not reporter.get("phone") or reporter.get("confidential"):
        return False
    return any(
        task["department"] == department and task["state"] in LIVE_TASK
        for task in case.get("tasks", [])
    )


TASK_TEXTS = ("resolution", "cancel_reason")


def present_case(case: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The case as ``viewer`` may see it; the caller's dict is left untouched.

    Hotline staff see everything; anyone else sees the reporter's phone masked (but for the
    liaison who must call, ``liaison_sees_phone``) and the numbers in the description and
    the departments' notes masked too."""
    if sees_phone_numbers(viewer):
        return case
    shown = present_summary(case, viewer)
    if case.get("reporter") and not liaison_sees_phone(case, viewer):
        shown["reporter"] = {**case["reporter"], "phone": mask_phone(case["reporter"].get("phone"))}
    if case.get("tasks"):
        shown["tasks"] = [present_task(task, viewer) for task in case["tasks"]]
    return shown


def present_summary(case: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """A case list item as ``viewer`` may see it: the description's numbers masked for all
    but the hotline staff."""
    if sees_phone_numbers(viewer):
        return case
    shown = copy.copy(case)
    shown["description"] = mask_phones(case.get("description"))
    location = case.get("location")
    if location and location.get("address"):
        shown["location"] = {**location, "address": mask_phones(location["address"])}
    return shown


def present_task(task: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """A task as ``viewer`` may see it: numbers in the departments' notes (the resolution,
    a return's basis, an extension's reason) and in the case's address masked."""
    if sees_phone_numbers(viewer):
        return task
    shown = {**task, **{key: mask_phones(task.get(key)) for key in TASK_TEXTS if key in task}}
    for part, key in (("return", "basis"), ("extension", "reason")):
        if shown.get(part):
            shown[part] = {**shown[part], key: mask_phones(shown[part].get(key))}
    if shown.get("case") and shown["case"].get("address"):
        shown["case"] = {**shown["case"], "address": mask_phones(shown["case"]["address"])}
    return shown
