"""Reading the pages' forms: each field as the type it stands for, or a refusal naming it.

Labels come translated by the page that reads the field; the refusals' templates are
translated where they are shown (`i18n.explain`).
"""

import re
from decimal import Decimal

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.responses import Response

from smmpanel.db.base import MAX_INT32, MAX_INT64
from smmpanel.errors import Refusal, refusal
from smmpanel.money import check_amount, parse, to_micros
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import Visit

# Far more than any list shows at once; SQLite takes at most 32,766 parameters a statement.
MAX_CHECKED = 5_000
# At most 18 digits: every such number fits the database's 64-bit integers.
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")

FIELD_MISSING = refusal("form_field_missing", "%(field)s: this field is required.")
FIELD_TOO_LONG = refusal("form_field_too_long", "%(field)s: at most %(count)s characters fit.")
NOT_A_WHOLE_NUMBER = refusal(
    "form_not_a_whole_number", "%(field)s: write a whole number from %(low)s to %(high)s."
)
NOT_A_COUNT = refusal("form_not_a_count", "%(field)s must be a whole number, 0 or more.")
NOT_AN_AMOUNT = refusal(
    "form_not_an_amount", "%(field)s: write a number with at most 6 decimals, like 1.25."
)


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def typed_values(form: FormData) -> dict[str, str]:
    """What was typed, to show the form again; a list field keeps its last value."""
    return {name: value for name, value in form.items() if isinstance(value, str)}


def required_text(form: FormData, name: str, label: str, max_length: int) -> str:
    value = text(form, name)
    if not value:
        raise FIELD_MISSING(field=label)
    if len(value) > max_length:
        raise FIELD_TOO_LONG(field=label, count=max_length)
    return value


def whole_number(form: FormData, name: str, label: str, low: int, high: int = MAX_INT32) -> int:
    value = text(form, name)
    if not WHOLE_NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise NOT_A_WHOLE_NUMBER(field=label, low=low, high=high)
    return int(value)


def optional_count(value: str, label: str) -> int | None:
    """A count typed in a form or a filter, 0 or more: None when left empty."""
    value = value.strip()
    if not value:
        return None
    if not WHOLE_NUMBER.fullmatch(value) or value.startswith("-"):
        raise NOT_A_COUNT(field=label)
    return int(value)


def amount(form: FormData, name: str, label: str) -> Decimal:
    """An amount as typed, at most 6 decimals and within money.LARGEST_AMOUNT either way."""
    return typed_amount(text(form, name), label)


def typed_amount(value: str, label: str) -> Decimal:
    try:
        parsed = parse(value or "missing")
    except Refusal:
        raise NOT_AN_AMOUNT(field=label) from None
    check_amount(to_micros(parsed))
    return parsed


def flag(form: FormData, name: str) -> bool:
    return bool(text(form, name))


def ids(form: FormData, name: str) -> list[int]:
    """The checked boxes of a list of ids; what is not an id is ignored."""
    values = [str(value).strip() for value in form.getlist(name)]
    if len(values) > MAX_CHECKED:
        explanation = _("At most %(count)s boxes can be checked at once: check fewer.")
        raise HTTPException(400, explanation % {"count": f"{MAX_CHECKED:,}"})
    return list(dict.fromkeys(int(value) for value in values if is_id(value)))


def is_id(value: str) -> bool:
    return WHOLE_NUMBER.fullmatch(value) is not None and 0 < int(value) <= MAX_INT64


def not_found(current: Visit) -> Response:
    """The 404 page, for an id in the address that names nothing."""
    explanation = _("There is no such page here. Check the address.")
    return current.render("error.html", 404, title=_("Page not found"), text=explanation)
