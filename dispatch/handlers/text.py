"""Text a client may send: no control characters.

PostgreSQL cannot store NUL in a text column, so one NUL in a description used to be appended
to the log and then stop the case-list projection on every later command; the other C0
controls are the ones an XLSX ledger cannot hold. None of them belongs in a complaint, a
note or a name. Tab, newline and carriage return are text and stay allowed.
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REFUSAL = "text may not contain control characters such as NUL (tab and newline are fine)"


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def check_plain_text(value: object) -> object:
    """A pydantic after-validator for any field: a str, or a list of them, without controls."""
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(text, str) and has_control_characters(text) for text in texts):
        raise ValueError(REFUSAL)
    return value
