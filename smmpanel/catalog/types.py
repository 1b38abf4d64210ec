"""The 14 service types of API v2: which fields an order of each type takes and how it counts."""

import re
from dataclasses import dataclass
from enum import Enum


class Units(Enum):
    QUANTITY = "quantity"  # the quantity field
    FLAT = "flat"  # one unit: charge = rate
    LINES = "lines"  # non-empty lines of a list field
    SUBSCRIPTION = "subscription"  # max × posts, charged up front when posts is given


@dataclass(frozen=True)
class ServiceType:
    name: str
    required: tuple[str, ...]
    units: Units
    lines_field: str | None = None
    optional: tuple[str, ...] = ()


SERVICE_TYPES: dict[str, ServiceType] = {
    t.name: t
    for t in (
        ServiceType("Default", ("link", "quantity"), Units.QUANTITY, optional=("runs", "interval")),
        ServiceType("Package", ("link",), Units.FLAT),
        ServiceType("Custom Comments", ("link", "comments"), Units.LINES, "comments"),
        ServiceType(
            "Mentions with Hashtags", ("link", "quantity", "usernames", "hashtags"), Units.QUANTITY
        ),
        ServiceType("Mentions Custom List", ("link", "usernames"), Units.LINES, "usernames"),
        ServiceType("Mentions Hashtag", ("link", "quantity", "hashtag"), Units.QUANTITY),
        ServiceType("Mentions User Followers", ("link", "quantity", "username"), Units.QUANTITY),
        ServiceType("Mentions Media Likers", ("link", "quantity", "media"), Units.QUANTITY),
        ServiceType("Custom Comments Package", ("link", "comments"), Units.FLAT),
        ServiceType("Comment Likes", ("link", "quantity", "username"), Units.QUANTITY),
        ServiceType("Poll", ("link", "quantity", "answer_number"), Units.QUANTITY),
        ServiceType("Comment Replies", ("link", "username", "comments"), Units.LINES, "comments"),
        ServiceType("Invites from Groups", ("link", "quantity", "groups"), Units.QUANTITY),
        ServiceType(
            "Subscriptions",
            ("username", "min", "max", "delay"),
            Units.SUBSCRIPTION,
            optional=("posts", "expiry"),
        ),
    )
}

TYPE_NAMES = tuple(SERVICE_TYPES)

_NEWLINE = re.compile(r"\r?\n")

# Text fields an order keeps as typed (lists keep their lines).
ORDER_TEXT_FIELDS = (
    "comments",
    "usernames",
    "hashtags",
    "hashtag",
    "username",
    "media",
    "answer_number",
    "groups",
)


def split_lines(text: str) -> list[str]:
    """One item per line, `\\r\\n` or `\\n` only; never split on commas."""
    return [line.strip() for line in _NEWLINE.split(text) if line.strip()]
