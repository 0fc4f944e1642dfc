"""The console's languages: Babel message catalogues compiled in memory at start-up.

The ``.po`` files under ``locale/`` are the source; there is no build step and no ``.mo``
in the tree. ``msgid`` is English; Simplified Chinese is the default language of the UI.
Extract new strings with ``pybabel extract -F dispatch/console/babel.cfg -k N_ -o
messages.pot dispatch/console`` and merge them into both catalogues.
"""

from __future__ import annotations

import io
from functools import cache
from gettext import GNUTranslations, NullTranslations
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES: dict[str, str] = {"zh_CN": "简体中文", "en": "English"}
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
ALIASES = {"zh": "zh_CN", "zh-cn": "zh_CN", "zh_cn": "zh_CN", "zh-hans": "zh_CN", "en": "en"}


def N_(message: str) -> str:
    """Mark a string for extraction; templates translate it when they show it."""
    return message


def normalise_language(value: str | None) -> str | None:
    """``zh``, ``zh-CN``, ``zh_CN`` → ``zh_CN``; ``en-US`` → ``en``; anything else → None."""
    if not value:
        return None
    text = value.strip().lower()
    if text in ALIASES:
        return ALIASES[text]
    return ALIASES.get(text.split("-")[0].split("_")[0])


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (read once per process)."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return GNUTranslations(compiled)
