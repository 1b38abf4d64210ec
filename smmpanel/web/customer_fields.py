"""The fields of each service type as the customer pages present them.

The same table labels the new-order form and describes the `add` parameters on the API page,
worded as the user's own API document has them. Texts are message ids: templates translate them.
"""

from dataclasses import dataclass

from smmpanel.catalog.types import SERVICE_TYPES, Units
from smmpanel.errors import N_

DRIPFEED_FIELDS = ("runs", "interval")
LIST_FIELDS = frozenset({"comments", "usernames", "hashtags", "groups"})
NUMBER_FIELDS = frozenset({"quantity", "runs", "interval", "min", "max", "posts", "answer_number"})
SUBSCRIPTION_DELAYS = (0, 5, 10, 15, 30, 60, 90)


# name: (form label, API description)
FIELD_TEXTS = {
    "link": (N_("Link"), N_("Link to page")),
    "quantity": (N_("Quantity"), N_("Needed quantity")),
    "runs": (N_("Runs"), N_("Runs to deliver")),
    "interval": (N_("Interval (minutes)"), N_("Interval in minutes")),
    "comments": (N_("Comments, one per line"), N_("Comments list separated by \\r\\n or \\n")),
    "usernames": (N_("Usernames, one per line"), N_("Usernames list separated by \\r\\n or \\n")),
    "hashtags": (N_("Hashtags, one per line"), N_("Hashtags list separated by \\r\\n or \\n")),
    "hashtag": (N_("Hashtag"), N_("Hashtag to scrape usernames from")),
    "username": (N_("Username"), N_("Username")),
    "media": (N_("Media URL"), N_("Media URL to scrape likers from")),
    "answer_number": (N_("Answer number"), N_("Answer number in the poll")),
    "groups": (N_("Groups, one per line"), N_("Groups list separated by \\r\\n or \\n")),
    "min": (N_("Least quantity per post"), N_("Quantity min")),
    "max": (N_("Most quantity per post"), N_("Quantity max")),
    "posts": (N_("Posts"), N_("Number of new posts to deliver to; without it, no limit")),
    "delay": (
        N_("Delay (minutes)"),
        N_("Delay in minutes. Possible values: 0, 5, 10, 15, 30, 60, 90"),
    ),
    "expiry": (N_("Expiry (d/m/Y)"), N_("Expiry date. Format d/m/Y")),
}
# Hints under a form's field where its label does not say enough.
FORM_HINTS = {
    "runs": N_("Drip-feed: how many times to deliver the quantity"),
    "interval": N_("Drip-feed: minutes between two deliveries"),
    "posts": N_("Number of new posts to deliver to; without it, no limit"),
}
# Where a type gives a field a meaning of its own.
TYPE_DESCRIPTIONS = {
    ("Mentions User Followers", "username"): N_("URL to scrape followers from"),
    ("Comment Likes", "username"): N_("Username of the comment owner"),
    ("Comment Replies", "username"): N_("Username of the comment owner"),
}


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    description: str
    hint: str | None
    optional: bool

    @property
    def kind(self) -> str:
        if self.name == "delay":
            return "delay"
        if self.name in LIST_FIELDS:
            return "lines"
        return "number" if self.name in NUMBER_FIELDS else "text"


def type_fields(type_name: str, dripfeed: bool = True) -> list[FormField]:
    """The fields an order of this type takes, in the API document's order."""
    service_type = SERVICE_TYPES[type_name]
    names = [(name, False) for name in service_type.required]
    names += [(name, True) for name in service_type.optional]
    return [
        _form_field(type_name, name, optional)
        for name, optional in names
        if dripfeed or name not in DRIPFEED_FIELDS
    ]


def _form_field(type_name: str, name: str, optional: bool) -> FormField:
    label, description = FIELD_TEXTS[name]
    own_meaning = TYPE_DESCRIPTIONS.get((type_name, name))
    return FormField(
        name=name,
        label=label,
        description=own_meaning or description,
        hint=own_meaning or FORM_HINTS.get(name),
        optional=optional,
    )


def field_names() -> tuple[str, ...]:
    """Every order field a form may send, by its API name."""
    return tuple(FIELD_TEXTS)


def is_flat(type_name: str) -> bool:
    """Whether the service's rate is the price of one order rather than a rate per 1000."""
    return SERVICE_TYPES[type_name].units is Units.FLAT


def charge_rule(type_name: str) -> dict[str, str | None]:
    """How the order form's script counts the units of an order of this type."""
    service_type = SERVICE_TYPES[type_name]
    return {"units": service_type.units.value, "lines_field": service_type.lines_field}
