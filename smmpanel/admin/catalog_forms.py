"""Reading the operator's forms: each field as the type it stands for, or a clear refusal."""

import re
from decimal import Decimal

from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.money import MoneyError, parse, to_micros
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import Visit

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,18}")


class FormProblem(ValueError):
    """A field that cannot be used; the message is translated and names the field."""


def text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def typed_values(form: FormData) -> dict[str, str]:
    """What was typed, to show the form again; a list field keeps its last value."""
    return {name: value for name, value in form.items() if isinstance(value, str)}


def required_text(form: FormData, name: str, label: str, max_length: int) -> str:
    value = text(form, name)
    if not value:
        raise FormProblem(_("%(field)s: this field is required.") % {"field": label})
    if len(value) > max_length:
        raise FormProblem(
            _("%(field)s: at most %(count)s characters fit.")
            % {"field": label, "count": max_length}
        )
    return value


def whole_number(form: FormData, name: str, label: str, low: int, high: int = MAX_INT32) -> int:
    value = text(form, name)
    if not WHOLE_NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise FormProblem(
            _("%(field)s: write a whole number from %(low)s to %(high)s.")
            % {"field": label, "low": low, "high": high}
        )
    return int(value)


def amount(form: FormData, name: str, label: str) -> Decimal:
    try:
        return parse(text(form, name) or "missing")
    except MoneyError:
        raise FormProblem(
            _("%(field)s: write a number with at most 6 decimals, like 1.25.") % {"field": label}
        ) from None


def rate(form: FormData, name: str, label: str) -> int:
    """A rate per 1000 in millionths: above zero, as every rate we sell at."""
    micros = to_micros(amount(form, name, label))
    if not 0 < micros <= MAX_INT64:
        raise FormProblem(_("%(field)s: the rate must be above zero.") % {"field": label})
    return micros


def flag(form: FormData, name: str) -> bool:
    return bool(text(form, name))


def quantity_limits(form: FormData) -> tuple[int, int]:
    low = whole_number(form, "min_quantity", _("Minimum"), 1)
    high = whole_number(form, "max_quantity", _("Maximum"), 1)
    if low > high:
        raise FormProblem(_("The minimum must not be above the maximum."))
    return low, high


def ids(form: FormData, name: str) -> list[int]:
    """The checked boxes of a list of ids; what is not an id is ignored."""
    values = [str(value).strip() for value in form.getlist(name)]
    return list(dict.fromkeys(int(value) for value in values if is_id(value)))


def is_id(value: str) -> bool:
    return WHOLE_NUMBER.fullmatch(value) is not None and 0 < int(value) <= MAX_INT64


def not_found(current: Visit) -> Response:
    """The 404 page, for an id in the address that names nothing."""
    explanation = _("There is no such page here. Check the address.")
    return current.render("error.html", 404, title=_("Page not found"), text=explanation)
