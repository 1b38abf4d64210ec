"""Every string the pages can show has its Traditional Chinese, with the same placeholders.

The strings are extracted as `make messages` does (babel.cfg), from the Python sources and the
templates; the translations are the catalogue the panel merges from every zh_TW .po file.
"""

import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import smmpanel
from smmpanel.catalog.types import TYPE_NAMES
from smmpanel.errors import REFUSAL_KINDS
from smmpanel.orders import statuses
from smmpanel.pagekit.i18n import LOCALE_DIR, _catalogue

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages() -> dict[str, set[str]]:
    """Each msgid (the singular, for plurals) and the files that use it."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config, "babel.cfg")
    used_in: dict[str, set[str]] = defaultdict(set)
    for filename, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map
    ):
        if _forms(message)[0]:
            used_in[_forms(message)[0]].add(filename)
    return used_in


def zh_tw_po_files() -> list[tuple[str, list]]:
    """(file name, its messages) of every zh_TW .po file, in the order they are merged."""
    found = []
    for po_file in sorted((LOCALE_DIR / "zh_TW" / "LC_MESSAGES").glob("*.po")):
        with po_file.open("rb") as handle:
            found.append((po_file.name, [m for m in read_po(handle, locale="zh_TW") if m.id]))
    return found


def run_time_messages() -> set[str]:
    """Texts the pages translate from a variable, which extraction cannot see: the statuses,
    the service types and the template of every refusal kind, shown through `i18n.explain`."""
    names = (
        set(statuses.ORDER_STATUSES)
        | set(statuses.SUBSCRIPTION_STATUSES)
        | set(statuses.REFILL_STATUSES)
        | {statuses.CANCEL_PENDING, statuses.CANCEL_ACCEPTED, statuses.CANCEL_REJECTED}
        | set(TYPE_NAMES)
    )
    return names | {kind.template for kind in every_refusal_kind()}


def every_refusal_kind() -> list:
    """Every kind the panel defines: its modules imported (not the migrations, not __main__)."""
    for module in pkgutil.walk_packages(smmpanel.__path__, "smmpanel."):
        if not module.name.startswith(("smmpanel.migrations", "smmpanel.__main__")):
            importlib.import_module(module.name)
    return list(REFUSAL_KINDS.values())


def test_extraction_finds_the_strings_of_the_templates_and_the_python_sources():
    used_in = extracted_messages()
    assert "smmpanel/templates/web/signup.html" in used_in["Create account"]
    assert "smmpanel/web/auth.py" in used_in["Welcome! Your account is ready."]


def test_every_string_of_the_pages_has_a_traditional_chinese_translation():
    translations = _catalogue("zh_TW")
    missing = {
        msgid: sorted(files)
        for msgid, files in extracted_messages().items()
        if not _translated(translations.get(msgid))
    }
    report = "\n".join(
        f"  {msgid!r} in {', '.join(files)}" for msgid, files in sorted(missing.items())
    )
    assert not missing, f"{len(missing)} strings have no zh_TW translation:\n{report}"


def test_the_statuses_and_refusals_shown_at_run_time_are_translated():
    translations = _catalogue("zh_TW")
    missing = sorted(m for m in run_time_messages() if not _translated(translations.get(m)))
    assert not missing, "no zh_TW translation for: " + ", ".join(map(repr, missing))


def test_a_msgid_in_several_po_files_has_one_translation():
    # The files are merged into one catalogue: the last one read would silently win.
    translations: dict[str, dict[str, str]] = defaultdict(dict)
    for file_name, messages in zh_tw_po_files():
        for message in messages:
            if message.string and not message.fuzzy:
                translations[_forms(message.id)[0]][file_name] = str(message.string)
    conflicts = [
        f"  {msgid!r}: " + ", ".join(f"{name} {text!r}" for name, text in by_file.items())
        for msgid, by_file in sorted(translations.items())
        if len(set(by_file.values())) > 1
    ]
    assert not conflicts, "translated differently in different files:\n" + "\n".join(conflicts)


def test_translations_keep_the_placeholders_of_their_msgid():
    wrong = []
    for file_name, messages in zh_tw_po_files():
        for message in messages:
            # Chinese has one plural form, which stands for the msgid's plural (its last form).
            wanted = _placeholders(_forms(message.id)[-1])
            for translated in _forms(message.string):
                if translated and _placeholders(translated) != wanted:
                    wrong.append(f"  {file_name}: {message.id!r} -> {translated!r}")
    assert not wrong, "translations whose placeholders differ from their msgid:\n" + "\n".join(
        wrong
    )


def _placeholders(text: str) -> set[str]:
    # A stray % counts too: the templates' _() formats every string, so it would fail there.
    return {found.group(0) for found in PYTHON_FORMAT.finditer(text)}


def _forms(text: str | tuple[str, ...]) -> tuple[str, ...]:
    return text if isinstance(text, tuple) else (text,)


def _translated(translation: str | tuple[str, ...] | None) -> bool:
    if isinstance(translation, tuple):
        return all(translation)
    return bool(translation)
