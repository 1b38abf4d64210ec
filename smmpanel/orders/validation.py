"""Checks an `add` request against its service's type, in the contract's order."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import SplitResult, urlsplit

import idna

from smmpanel.catalog.service import OrderableService
from smmpanel.catalog.types import ORDER_TEXT_FIELDS, SERVICE_TYPES, Units, split_lines
from smmpanel.money import charge_micros
from smmpanel.orders import refusals

# In UTF-8 bytes: the active link is indexed, and PostgreSQL refuses index rows over ~2.7 kB.
MAX_LINK_BYTES = 2000
MIN_RUNS = 2
MAX_RUNS = 10_000
MAX_INTERVAL_MINUTES = 43_200  # 30 days
MAX_POSTS = 10_000
SUBSCRIPTION_DELAYS = frozenset({0, 5, 10, 15, 30, 60, 90})
# ASCII digits only (`\d` also takes other scripts' digits); 18 fit a BIGINT id.
MAX_DIGITS = 18
_BARE_LINK = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+(?::\d{1,5})?(?:[/?#]\S*)?"
)
# Not in a link: white space, control characters (C0, DEL, C1), and the bidirectional marks,
# embeddings, overrides and isolates that make a link read otherwise than it goes.
_UNFIT_IN_LINK = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A DNS label in ASCII; the underscore is in real host names though not in IDNA's rules.
_ASCII_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
MAX_HOST_NAME = 253


@dataclass
class NewOrder:
    """A checked order, ready to store: its columns, units charged for, and the charge."""

    type: str
    quantity: int
    units: int
    charge: int
    link: str | None = None
    runs: int | None = None
    interval: int | None = None
    texts: dict[str, str] = field(default_factory=dict)
    subscription: dict | None = None


def validate_order(service: OrderableService, fields: Mapping[str, str]) -> NewOrder:
    service_type = SERVICE_TYPES[service.type]
    for name in service_type.required:
        if not fields.get(name, "").strip():
            raise refusals.FIELD_REQUIRED(field=name)
    if service_type.units is Units.SUBSCRIPTION:
        return _subscription(service, fields)
    link = fields["link"].strip()
    if not is_valid_link(link):
        raise refusals.INCORRECT_LINK()
    quantity = _quantity(service, fields, service_type.units, service_type.lines_field)
    runs, interval = _dripfeed(service, fields) if "runs" in service_type.optional else (None, None)
    texts = {name: fields[name] for name in ORDER_TEXT_FIELDS if name in service_type.required}
    if service.type == "Poll":
        texts["answer_number"] = _answer_number(fields["answer_number"])
    units = quantity * (runs or 1)
    # A package's rate is its price: charged as it stands, not per 1000.
    charge = (
        service.rate if service_type.units is Units.FLAT else charge_micros(service.rate, units)
    )
    return NewOrder(
        type=service.type,
        quantity=quantity,
        units=units,
        charge=charge,
        link=link,
        runs=runs,
        interval=interval,
        texts=texts,
    )


def is_valid_link(link: str) -> bool:
    """An http(s) URL, or a bare host/path (`instagram.com/user`) read as one: a host name
    (internationalised ones too) or an IP address, and a port from 1 to 65535 if any."""
    if not link or len(link.encode()) > MAX_LINK_BYTES or _UNFIT_IN_LINK.search(link):
        return False
    try:
        parts = urlsplit(link)
        if not parts.scheme and _BARE_LINK.fullmatch(link):
            parts = urlsplit("http://" + link)
        return parts.scheme.lower() in ("http", "https") and _has_host_and_port(parts)
    except ValueError:  # urlsplit's refusal of a bracketed host or a port
        return False


def _has_host_and_port(parts: SplitResult) -> bool:
    return parts.port != 0 and _is_host(parts.hostname or "")


def _is_host(host: str) -> bool:
    if ":" in host:  # an IPv6 address: urlsplit has checked it between its brackets
        return True
    try:
        # Mapped as browsers map it (case, full-width dots), then each label to its ASCII form.
        labels = idna.uts46_remap(host, std3_rules=False, transitional=False).split(".")
        if labels[-1] == "" and len(labels) > 1:
            labels.pop()  # the root's dot: `x.com.`
        ascii_labels = [
            label if label.isascii() else idna.alabel(label).decode() for label in labels
        ]
    except idna.IDNAError:
        return False
    return len(".".join(ascii_labels)) <= MAX_HOST_NAME and all(
        _ASCII_LABEL.fullmatch(label) for label in ascii_labels
    )


def _is_digits(text: str) -> bool:
    """1 to MAX_DIGITS ASCII digits. Without a regular expression: a third of its time, and a
    status of 100 ids parses each one."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS


def parse_positive_int(text: str) -> int | None:
    text = text.strip()
    if not _is_digits(text):
        return None
    value = int(text)
    return value if value > 0 else None


def _quantity(
    service: OrderableService, fields: Mapping[str, str], units: Units, lines_field: str | None
) -> int:
    if units is Units.FLAT:
        return 1
    if units is Units.LINES:
        quantity = len(split_lines(fields[lines_field or ""]))
    else:
        parsed = parse_positive_int(fields["quantity"])
        if parsed is None:
            raise refusals.INCORRECT_QUANTITY()
        quantity = parsed
    if quantity < service.min_quantity:
        raise refusals.QUANTITY_BELOW_MIN(min=service.min_quantity)
    if quantity > service.max_quantity:
        raise refusals.QUANTITY_ABOVE_MAX(max=service.max_quantity)
    return quantity


def _dripfeed(
    service: OrderableService, fields: Mapping[str, str]
) -> tuple[int | None, int | None]:
    runs_text = fields.get("runs", "").strip()
    interval_text = fields.get("interval", "").strip()
    if not runs_text and not interval_text:
        return None, None
    if not service.dripfeed:
        raise refusals.DRIPFEED_UNSUPPORTED()
    runs = parse_positive_int(runs_text)
    if runs is None or not MIN_RUNS <= runs <= MAX_RUNS:
        raise refusals.INCORRECT_RUNS()
    interval = parse_positive_int(interval_text)
    if interval is None or interval > MAX_INTERVAL_MINUTES:
        raise refusals.INCORRECT_INTERVAL()
    return runs, interval


def _answer_number(text: str) -> str:
    answer = parse_positive_int(text)
    if answer is None:
        raise refusals.INCORRECT_ANSWER()
    return str(answer)


def _subscription(service: OrderableService, fields: Mapping[str, str]) -> NewOrder:
    low = parse_positive_int(fields["min"])
    high = parse_positive_int(fields["max"])
    if (
        low is None
        or high is None
        or low > high
        or low < service.min_quantity
        or high > service.max_quantity
    ):
        raise refusals.INCORRECT_MIN_MAX()
    delay = fields["delay"].strip()
    if not _is_digits(delay) or int(delay) not in SUBSCRIPTION_DELAYS:
        raise refusals.INCORRECT_DELAY()
    posts = _optional_posts(fields.get("posts", ""))
    expiry = _optional_expiry(fields.get("expiry", ""))
    units = high * posts if posts else 0
    return NewOrder(
        type=service.type,
        quantity=high,
        units=units,
        charge=charge_micros(service.rate, units),
        subscription={
            "username": fields["username"].strip(),
            "min_quantity": low,
            "max_quantity": high,
            "posts": posts,
            "delay": int(delay),
            "expiry": expiry,
        },
    )


def _optional_posts(text: str) -> int | None:
    if not text.strip():
        return None
    posts = parse_positive_int(text)
    if posts is None or posts > MAX_POSTS:
        raise refusals.INCORRECT_POSTS()
    return posts


def _optional_expiry(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        expiry = datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise refusals.INCORRECT_EXPIRY() from None
    if expiry <= datetime.now(UTC).date():
        raise refusals.INCORRECT_EXPIRY()
    return expiry
