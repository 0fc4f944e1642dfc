"""Why an upload is refused, in words a hotline operator and a client developer can both read.

One exception class with a stable ``code`` (the API's problem+json ``code``, DESIGN §8.3), the
HTTP status it maps to, and the message in Simplified Chinese and English. The messages name
the file and the limit and say what to do next; they never name a server path.
"""

from __future__ import annotations

from typing import Final

REFUSAL_STATUS: Final[dict[str, int]] = {
    "empty_file": 422,
    "file_too_large": 413,
    "bad_file_name": 422,
    "unsupported_type": 415,
    "type_mismatch": 422,
    "unreadable_file": 422,
    "image_too_large": 413,
}


class MediaRefused(Exception):
    """An upload the media layer will not store; nothing was written."""

    def __init__(self, code: str, *, zh: str, en: str) -> None:
        if code not in REFUSAL_STATUS:
            raise ValueError(f"unknown refusal code {code!r}; add it to REFUSAL_STATUS")
        super().__init__(en)
        self.code = code
        self.status = REFUSAL_STATUS[code]
        self.message_zh = zh
        self.message_en = en

    def message(self, language: str = "zh") -> str:
        """The message for an ``Accept-Language``-style tag: English for ``en…``, else Chinese."""
        return self.message_en if language.lower().startswith("en") else self.message_zh

    def __repr__(self) -> str:
        return f"MediaRefused({self.code!r}, status={self.status})"


class MediaNotFound(LookupError):
    """No stored file (or thumbnail) has this sha256: never stored, erased, or lost."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"no stored file has sha256 {sha256}")
        self.sha256 = sha256
