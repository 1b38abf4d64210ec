"""Languages of the pages: gettext catalogues (Babel .po files) read at start, one per language.

Every `.po` file under `smmpanel/locale/<language>/LC_MESSAGES/` is merged into that language's
catalogue, so each part of the pages keeps its own file. The language of the request being
rendered lives in a context variable, which the templates' `_()` reads; the time zone its times
are shown in lives in another.
"""

import contextvars
import re
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

from smmpanel.errors import Refusal, Term
from smmpanel.panel.service import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LANGUAGE = "en"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_language", default=DEFAULT_LANGUAGE
)
# The IANA zone the request's viewer reads times in (pages.start_visit sets it).
current_time_zone: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_time_zone", default="UTC"
)


@lru_cache
def _catalogue(language: str) -> dict[str, str | tuple[str, ...]]:
    messages: dict[str, str | tuple[str, ...]] = {}
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id or not message.string or message.fuzzy:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            translated = message.string
            if isinstance(translated, str):
                messages[key] = translated
            elif any(translated):
                messages[key] = tuple(translated)
    return messages


def known_language(language: str | None) -> str | None:
    if not language:
        return None
    language = language.replace("-", "_")
    return language if language in LANGUAGES else None


# RFC 9110 §12.5.4: a language range (`*` or a BCP 47 tag) and a weight of at most three decimals.
_LANGUAGE_RANGE = re.compile(r"\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_WEIGHT = re.compile(r"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
TRADITIONAL_CHINESE_REGIONS = frozenset({"tw", "hk", "mo"})


def language_of_accept_header(header: str | None) -> str | None:
    """The panel language an `Accept-Language` header prefers, or None: the panel's default.

    Ranges are tried by weight, highest first (equal weights in the header's order); a weight
    of 0 means not acceptable, and a range that cannot be read is skipped. `*` means any
    language will do, so it stops the search at the default. English of any region is English.
    Chinese is spoken here only in Traditional script: `zh`, `zh-Hant-*` and `zh-TW`/`HK`/`MO`
    are zh_TW, while Simplified (`zh-Hans-*`, `zh-CN`, other regions) is not spoken, so the
    next range is tried."""
    for tag in _ranges_by_weight(header or ""):
        if tag == "*":
            return None
        spoken = _panel_language_of(tag)
        if spoken:
            return spoken
    return None


def _ranges_by_weight(header: str) -> list[str]:
    weighted = []
    for entry in header.split(","):
        tag, *params = (part.strip() for part in entry.split(";"))
        params = [param for param in params if param]
        weight = _weight_of(params)
        if weight and _LANGUAGE_RANGE.fullmatch(tag):
            weighted.append((weight, tag.lower()))
    return [tag for _, tag in sorted(weighted, key=lambda pair: -pair[0])]


def _weight_of(params: list[str]) -> float | None:
    """The `q` weight of one range: 1 when absent, None when it cannot be read."""
    if not params:
        return 1.0
    name, _, value = params[0].partition("=")
    if len(params) > 1 or name.strip().lower() != "q" or not _WEIGHT.fullmatch(value.strip()):
        return None
    return float(value)


def _panel_language_of(tag: str) -> str | None:
    primary, *subtags = tag.split("-")
    if primary == "en":
        return known_language("en")
    if primary == "zh" and _is_traditional_chinese(subtags):
        return known_language("zh_TW")
    return None


def _is_traditional_chinese(subtags: list[str]) -> bool:
    if "hant" in subtags or "hans" in subtags:
        return "hant" in subtags
    return not subtags or bool(TRADITIONAL_CHINESE_REGIONS & set(subtags))


def gettext(message: str) -> str:
    translated = _catalogue(current_language.get()).get(message)
    if isinstance(translated, tuple):
        translated = translated[0]
    return translated or message


def ngettext(singular: str, plural: str, count: int) -> str:
    translated = _catalogue(current_language.get()).get(singular)
    if isinstance(translated, tuple):
        # Chinese has one plural form; other languages pick by Babel's plural rule.
        form = Locale.parse(current_language.get()).plural_form(count)
        index = {"one": 0}.get(form, len(translated) - 1)
        return translated[min(index, len(translated) - 1)] or (singular if count == 1 else plural)
    return singular if count == 1 else plural


def babel_locale() -> Locale:
    return Locale.parse(current_language.get())


def explain(refused: Refusal, wording: str | None = None, **shown: str) -> str:
    """A refusal as a sentence on a page: its template translated, then its params filled in,
    the words and refusals among them translated too. `wording` is the page's own template for
    it, with the same params; `shown` gives a param as the page itself names it."""
    text = _translated(refused, shown, wording)
    return text[:1].upper() + text[1:]


def _translated(refused: Refusal, shown: dict[str, str], wording: str | None = None) -> str:
    params = {name: _translated_param(value) for name, value in refused.params.items()}
    return gettext(wording or refused.template) % (params | shown)


def _translated_param(value: object) -> object:
    if isinstance(value, Term):
        return gettext(value)
    if isinstance(value, Refusal):
        return _translated(value, {})
    return value
