"""How an actor from the log reads on screen: a person's name, never a login."""

from __future__ import annotations

from dispatch.console.i18n import N_

SYSTEM = N_("System (automatic)")
OPEN311 = "open311:"


def actor_name(username: str | None, people: dict[str, str]) -> tuple[str, bool]:
    """``(text, translate)``: the display name of a user; the name of a city app for
    ``open311:<app>``; the system's msgid (``translate`` true) for jobs; else the username."""
    if not username:
        return ("", False)
    if username in people:
        return (people[username], False)
    if username.startswith(OPEN311):
        return (f"{username[len(OPEN311) :]} (Open311)", False)
    if username == "system" or username == "privacy-erase":
        return (SYSTEM, True)
    return (username, False)
