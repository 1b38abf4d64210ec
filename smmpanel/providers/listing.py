"""Reading an upstream's `services` list defensively: each entry is used whole or skipped.

Upstreams send ids and counts as numbers or strings, flags as 1/0, booleans or words, and now
and then an entry with a field missing or a type nobody knows. A bad entry is skipped with a
reason (a refusal, for the operator to read in the import's or the sync's report); it never
stops the rest.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from smmpanel.catalog.types import TYPE_NAMES
from smmpanel.errors import Refusal, refusal

MAX_QUANTITY = 2**31 - 1
MAX_ID_LENGTH = 50
MAX_NAME_LENGTH = 300
MAX_CATEGORY_LENGTH = 200
NO_CATEGORY = "Other"
TRUE_WORDS = {"1", "true", "yes", "on"}
_TYPES_BY_KEY = {name.lower(): name for name in TYPE_NAMES}

# Why an upstream entry cannot be used.
NO_SERVICE_ID = refusal("upstream_entry_no_id", "no service id")
UNUSABLE_SERVICE_ID = refusal("upstream_entry_unusable_id", "unusable service id %(value)s")
LISTED_TWICE = refusal("upstream_entry_listed_twice", "listed twice; the first one is used")
NO_NAME = refusal("upstream_entry_no_name", "no name")
NO_TYPE = refusal("upstream_entry_no_type", "no type")
UNKNOWN_TYPE = refusal("upstream_entry_unknown_type", "unknown type %(value)s")
NO_USABLE_RATE = refusal("upstream_entry_no_rate", "no usable rate (%(value)s)")
RATE_NOT_POSITIVE = refusal("upstream_entry_rate_not_positive", "rate %(value)s is not above zero")
NO_USABLE_COUNT = refusal("upstream_entry_no_count", "no usable %(name)s (%(value)s)")
COUNT_NEGATIVE = refusal("upstream_entry_count_negative", "%(name)s %(value)s is negative")
MIN_ABOVE_MAX = refusal("upstream_entry_min_above_max", "min %(min)s is above max %(max)s")


@dataclass(frozen=True)
class UpstreamService:
    id: str
    name: str
    category: str
    type: str
    rate: Decimal  # exactly as listed, per 1000
    min_quantity: int
    max_quantity: int
    description: str
    dripfeed: bool
    refill: bool
    cancel: bool


@dataclass(frozen=True)
class Skipped:
    ref: str  # the upstream id, or the entry's place in the list when it has none
    reason: Refusal


@dataclass
class Listing:
    services: dict[str, UpstreamService] = field(default_factory=dict)  # by id, as listed
    skipped: list[Skipped] = field(default_factory=list)
    unreadable_ids: set[str] = field(default_factory=set)  # listed, but not usable


def read_listing(entries: list[dict[str, Any]]) -> Listing:
    listing = Listing()
    for position, entry in enumerate(entries, start=1):
        _add_entry(listing, position, entry)
    return listing


def _add_entry(listing: Listing, position: int, entry: dict[str, Any]) -> None:
    try:
        service_id = read_id(entry.get("service"))
    except Refusal as unusable:
        listing.skipped.append(Skipped(f"entry {position}", unusable))
        return
    if service_id in listing.services or service_id in listing.unreadable_ids:
        listing.skipped.append(Skipped(service_id, LISTED_TWICE()))
        return
    try:
        listing.services[service_id] = read_entry(service_id, entry)
    except Refusal as unusable:
        listing.skipped.append(Skipped(service_id, unusable))
        listing.unreadable_ids.add(service_id)


def read_entry(service_id: str, entry: dict[str, Any]) -> UpstreamService:
    min_quantity = max(read_count(entry.get("min"), "min"), 1)
    max_quantity = min(read_count(entry.get("max"), "max"), MAX_QUANTITY)
    if min_quantity > max_quantity:
        raise MIN_ABOVE_MAX(min=min_quantity, max=max_quantity)
    return UpstreamService(
        id=service_id,
        name=read_name(entry.get("name")),
        category=read_category(entry.get("category")),
        type=read_type(entry.get("type")),
        rate=read_rate(entry.get("rate")),
        min_quantity=min_quantity,
        max_quantity=max_quantity,
        description=_text(entry.get("desc", entry.get("description"))),
        dripfeed=read_flag(entry.get("dripfeed")),
        refill=read_flag(entry.get("refill")),
        cancel=read_flag(entry.get("cancel")),
    )


def read_id(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise NO_SERVICE_ID()
    text = str(value).strip()
    if not text or not text.isprintable() or len(text) > MAX_ID_LENGTH:
        raise UNUSABLE_SERVICE_ID(value=_show(value))
    return text


def read_name(value: object) -> str:
    name = _text(value).strip()
    if not name:
        raise NO_NAME()
    return _cut(name, MAX_NAME_LENGTH)


def read_category(value: object) -> str:
    return _cut(_text(value).strip() or NO_CATEGORY, MAX_CATEGORY_LENGTH)


def read_type(value: object) -> str:
    if value is None:
        raise NO_TYPE()
    known = _TYPES_BY_KEY.get(" ".join(str(value).split()).lower())
    if known is None:
        raise UNKNOWN_TYPE(value=_show(value))
    return known


def read_rate(value: object) -> Decimal:
    rate = _decimal(value)
    if rate is None:
        raise NO_USABLE_RATE(value=_show(value))
    if rate <= 0:
        raise RATE_NOT_POSITIVE(value=_show(value))
    return rate


def read_count(value: object, name: str) -> int:
    count = _decimal(value)
    if count is None or count != count.to_integral_value():
        raise NO_USABLE_COUNT(name=name, value=_show(value))
    if count < 0:
        raise COUNT_NEGATIVE(name=name, value=_show(value))
    return int(count)


def read_flag(value: object) -> bool:
    """Anything but a clear yes is a no: never offer what the upstream may not do."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: object) -> str:
    return _cut(repr(value), 40)
