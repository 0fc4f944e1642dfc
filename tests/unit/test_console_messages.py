"""The console speaks Chinese first: every string it shows has a Simplified Chinese entry."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from dispatch.console import i18n
from dispatch.console.display import duration

CONSOLE = Path(i18n.__file__).parent
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def used_messages() -> set[str | tuple[str, ...]]:
    found = extract_from_dir(str(CONSOLE), METHODS, OPTIONS, keywords=KEYWORDS)
    return {message for _file, _line, message, _comments, _context in found}


def catalogue(language: str) -> dict[str | tuple[str, ...], str | tuple[str, ...]]:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return {m.id: m.string for m in read_po(source) if m.id}


def test_every_console_string_has_a_chinese_translation() -> None:
    chinese = catalogue("zh_CN")
    missing = sorted(m for m in used_messages() if not chinese.get(m))
    assert missing == [], "add these to zh_CN/messages.po (see dispatch/console/i18n.py)"


def test_the_english_catalogue_lists_the_same_messages() -> None:
    assert set(catalogue("en")) == set(catalogue("zh_CN"))


def test_catalogues_compile_in_memory_and_chinese_is_the_default() -> None:
    assert i18n.DEFAULT_LANGUAGE == "zh_CN"
    assert i18n.translations("zh_CN").gettext("Sign in") == "登录"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"


def test_language_names_are_understood_in_their_usual_spellings() -> None:
    assert i18n.normalise_language("zh-CN") == "zh_CN"
    assert i18n.normalise_language("en-US") == "en"
    assert i18n.normalise_language("fr") is None


def test_durations_read_in_the_two_largest_units() -> None:
    chinese = i18n.translations("zh_CN")
    assert duration(2 * 86400 + 3 * 3600 + 59, chinese) == "2天3小时"
    assert duration(-(3 * 3600 + 12 * 60), chinese) == "3小时12分"
    assert duration(40, i18n.translations("en")) == "40s"
