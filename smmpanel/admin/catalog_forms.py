"""Reading the catalogue's forms: rates and quantity limits."""

from starlette.datastructures import FormData

from smmpanel.errors import refusal
from smmpanel.money import to_micros
from smmpanel.pagekit.forms import amount, whole_number
from smmpanel.pagekit.i18n import gettext as _

RATE_NOT_POSITIVE = refusal("form_rate_not_positive", "%(field)s: the rate must be above zero.")
MIN_ABOVE_MAX = refusal("form_min_above_max", "The minimum must not be above the maximum.")


def rate(form: FormData, name: str, label: str) -> int:
    """A rate per 1000 in millionths: above zero, as every rate we sell at."""
    micros = to_micros(amount(form, name, label))
    if micros <= 0:
        raise RATE_NOT_POSITIVE(field=label)
    return micros


def quantity_limits(form: FormData) -> tuple[int, int]:
    low = whole_number(form, "min_quantity", _("Minimum"), 1)
    high = whole_number(form, "max_quantity", _("Maximum"), 1)
    if low > high:
        raise MIN_ABOVE_MAX()
    return low, high
