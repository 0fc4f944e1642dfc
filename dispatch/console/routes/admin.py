"""系统管理: the administrator's menu — users, the catalogue and Open311 API keys, each with
what it holds now, and the latest rows of the admin log (who changed what, and when)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from dispatch.auth.admin_log import recent_admin_actions
from dispatch.auth.apikeys import list_api_keys
from dispatch.auth.users import User, list_users
from dispatch.catalogue.versions import list_versions
from dispatch.console.i18n import N_
from dispatch.console.web import container_of, render, require

router = APIRouter()

Admin = Depends(require("admin"))
RECENT = 20

# The admin log's actions in words (the code stays beside them for auditors).
ACTIONS = {
    "user_added": N_("User added"),
    "user_changed": N_("User changed"),
    "user_disabled": N_("User disabled"),
    "user_enabled": N_("User enabled"),
    "password_reset": N_("Password reset"),
    "catalogue_loaded": N_("Catalogue loaded"),
    "api_key_added": N_("API key issued"),
    "api_key_revoked": N_("API key revoked"),
}


@router.get("/admin")
def admin_menu(request: Request, user: User = Admin) -> Response:
    container = container_of(request)
    with container.store.reading() as conn:
        staff = list_users(conn)
        keys = list_api_keys(conn)
        log = recent_admin_actions(conn, limit=RECENT)
    versions = list_versions(container.engine)
    context = {
        "user_count": len(staff),
        "active_count": sum(1 for person in staff if person.active),
        "catalogue": versions[0] if versions else None,
        "live_clients": len({key.name for key in keys if key.revoked_at is None}),
        "log": log,
        "actions": ACTIONS,
    }
    return render(request, "admin.html", context)
