"""Reading an upstream's `services` list defensively: each entry is used whole or skipped.

Upstreams send ids and counts as numbers or strings, flags as 1/0, booleans or words, and now
and then an entry with a field missing or a type nobody knows. A bad entry is skipped with a
reason; it never stops the rest.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from smmpanel.catalog.types import TYPE_NAMES

MAX_QUANTITY = 2**31 - 1
MAX_ID_LENGTH = 50
MAX_NAME_LENGTH = 300
MAX_CATEGORY_LENGTH = 200
NO_CATEGORY = "Other"
TRUE_WORDS = {"1", "true", "yes", "on"}
_TYPES_BY_KEY = {name.lower(): name for name in TYPE_NAMES}


class EntryError(ValueError):
    """Why an upstream entry cannot be used."""


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
    reason: str


@dataclass
class Listing:
    services: dict[str, UpstreamService] = field(default_factory=dict)  # by id, as listed
    skipped: list[Skipped] = field(default_factory=list)
    unreadable_ids: set[str] = field(default_factory=set)  # listed, but not usable


def read_listing(entries: list[dict]) -> Listing:
    listing = Listing()
    for position, entry in enumerate(entries, start=1):
        _add_entry(listing, position, entry)
    return listing


def _add_entry(listing: Listing, position: int, entry: dict) -> None:
    try:
        service_id = read_id(entry.get("service"))
    except EntryError as exc:
        listing.skipped.append(Skipped(f"entry {position}", str(exc)))
        return
    if service_id in listing.services or service_id in listing.unreadable_ids:
        listing.skipped.append(Skipped(service_id, "listed twice; the first one is used"))
        return
    try:
        listing.services[service_id] = read_entry(service_id, entry)
    except EntryError as exc:
        listing.skipped.append(Skipped(service_id, str(exc)))
        listing.unreadable_ids.add(service_id)


def read_entry(service_id: str, entry: dict) -> UpstreamService:
    min_quantity = max(read_count(entry.get("min"), "min"), 1)
    max_quantity = min(read_count(entry.get("max"), "max"), MAX_QUANTITY)
    if min_quantity > max_quantity:
        raise EntryError(f"min {min_quantity} is above max {max_quantity}")
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
        raise EntryError("no service id")
    text = str(value).strip()
    if not text or not text.isprintable() or len(text) > MAX_ID_LENGTH:
        raise EntryError(f"unusable service id {_show(value)}")
    return text


def read_name(value: object) -> str:
    name = _text(value).strip()
    if not name:
        raise EntryError("no name")
    return _cut(name, MAX_NAME_LENGTH)


def read_category(value: object) -> str:
    return _cut(_text(value).strip() or NO_CATEGORY, MAX_CATEGORY_LENGTH)


def read_type(value: object) -> str:
    if value is None:
        raise EntryError("no type")
    known = _TYPES_BY_KEY.get(" ".join(str(value).split()).lower())
    if known is None:
        raise EntryError(f"unknown type {_show(value)}")
    return known


def read_rate(value: object) -> Decimal:
    rate = _decimal(value)
    if rate is None:
        raise EntryError(f"no usable rate ({_show(value)})")
    if rate <= 0:
        raise EntryError(f"rate {_show(value)} is not above zero")
    return rate


def read_count(value: object, name: str) -> int:
    count = _decimal(value)
    if count is None or count != count.to_integral_value():
        raise EntryError(f"no usable {name} ({_show(value)})")
    if count < 0:
        raise EntryError(f"{name} {_show(value)} is negative")
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
