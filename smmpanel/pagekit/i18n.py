"""Languages of the pages: gettext catalogues (Babel .po files) read at start, one per language.

Every `.po` file under `smmpanel/locale/<language>/LC_MESSAGES/` is merged into that language's
catalogue, so each part of the pages keeps its own file. The language of the request being
rendered lives in a context variable, which the templates' `_()` reads.
"""

import contextvars
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
