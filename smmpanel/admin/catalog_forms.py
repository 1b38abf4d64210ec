"""Reading the catalogue's forms: rates, quantity limits, and the list's filter and page."""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from starlette.datastructures import FormData

from smmpanel.catalog.models import FULFIL_MANUAL
from smmpanel.catalog.service import ServiceFilter
from smmpanel.catalog.types import SERVICE_TYPES
from smmpanel.errors import refusal
from smmpanel.money import to_micros
from smmpanel.pagekit.forms import FIELD_TOO_LONG, amount, is_id, text, whole_number
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pagination import list_address, page_number

CATALOGUE = "/admin/catalog"
LONGEST_SEARCH = 200
ON_OFFER = {"yes": True, "no": False}  # the list's "enabled" filter, as the address spells it
DELETED = "deleted"  # the same filter's choice of the deleted services, the only ones it shows

RATE_NOT_POSITIVE = refusal("form_rate_not_positive", "%(field)s: the rate must be above zero.")
MIN_ABOVE_MAX = refusal("form_min_above_max", "The minimum must not be above the maximum.")


def rate(form: FormData, name: str, label: str) -> int:
    """A rate per 1000 in millionths: above zero, as every rate we sell at."""
    micros = to_micros(amount(form, name, label))
    if micros <= 0:
        raise RATE_NOT_POSITIVE(field=label)
    return micros


def optional_text(form: FormData, name: str, label: str, max_length: int) -> str | None:
    """Text that may be left empty (None), of at most `max_length` characters."""
    value = text(form, name)
    if len(value) > max_length:
        raise FIELD_TOO_LONG(field=label, count=max_length)
    return value or None


def quantity_limits(form: FormData) -> tuple[int, int]:
    low = whole_number(form, "min_quantity", _("Minimum"), 1)
    high = whole_number(form, "max_quantity", _("Maximum"), 1)
    if low > high:
        raise MIN_ABOVE_MAX()
    return low, high


@dataclass(frozen=True)
class Listing:
    """What the catalogue's address asks for: the filter as the form shows it, and the page.

    Each field is a valid value or empty: what is not one of the choices does not filter.
    """

    q: str = ""
    category: str = ""
    provider: str = ""  # a provider's id, or FULFIL_MANUAL
    type: str = ""
    enabled: str = ""  # a key of ON_OFFER, or DELETED
    page: int = 1

    @classmethod
    def read(cls, params: Mapping[str, str]) -> "Listing":
        provider = params.get("provider", "")
        return cls(
            q=params.get("q", "").strip()[:LONGEST_SEARCH],
            category=_id_or_empty(params.get("category", "")),
            provider=provider if provider == FULFIL_MANUAL else _id_or_empty(provider),
            type=_one_of(params.get("type", ""), SERVICE_TYPES),
            enabled=_one_of(params.get("enabled", ""), (*ON_OFFER, DELETED)),
            page=page_number(params.get("page", "")),
        )

    def service_filter(self) -> ServiceFilter:
        return ServiceFilter(
            search=self.q,
            category_id=int(self.category) if self.category else None,
            provider_id=int(self.provider) if is_id(self.provider) else None,
            by_hand=self.provider == FULFIL_MANUAL,
            type=self.type,
            enabled=ON_OFFER.get(self.enabled),
            deleted=self.enabled == DELETED,
        )

    def address(self, page: int | None = None) -> str:
        filters = {name: getattr(self, name) for name in ("q", "category", "provider", "type")}
        return list_address(
            CATALOGUE, self.page if page is None else page, **filters, enabled=self.enabled
        )


def _id_or_empty(value: str) -> str:
    return value if is_id(value) else ""


def _one_of(value: str, choices: Mapping[str, object] | tuple[str, ...]) -> str:
    return value if value in choices else ""


def listing_at(address: str) -> Listing:
    """The catalogue list at this address; anything but an address of that list (another site
    included) is the catalogue's first page."""
    parts = urlsplit(address)
    if parts.scheme or parts.netloc or parts.path != CATALOGUE:
        return Listing()
    return Listing.read(dict(parse_qsl(parts.query)))


def back_listing(form: FormData) -> Listing:
    """The list a form was sent from: its hidden `back` field."""
    return listing_at(text(form, "back"))


def back_of(form: FormData) -> str:
    return back_listing(form).address()


def list_came_from(referer: str) -> str:
    """The catalogue list a page was opened from (its Referer), or the catalogue's first page."""
    parts = urlsplit(referer)
    return listing_at(urlunsplit(("", "", parts.path, parts.query, ""))).address()
