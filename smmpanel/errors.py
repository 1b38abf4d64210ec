"""Refusals: a request or change refused, for a person to read (API, pages, command line).

A refusal kind is defined once, next to the rule it enforces, with `refusal(code, template)`:
a stable code (`quantity_below_min`) and its English wording with placeholders
(`"Quantity less than minimal %(min)s"`). Raising it fills in the params:
`raise QUANTITY_BELOW_MIN(min=100)`. The API and the command line print `message` (for the
API's own refusals, the contract's exact words); the pages translate `template` (it is the
msgid in the .po files) and fill in the same params, translating those marked with `N_`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SQLAlchemy's import would cost the command line's help a fifth of a second
    from sqlalchemy import Column


class Term(str):
    """A word in a refusal's params that the pages translate (a field's name), unlike a value
    a person typed or a number."""


def N_(word: str) -> Term:
    """Marks a word for translation: extracted by `make messages`, translated where shown."""
    return Term(word)


class DomainError(Exception):
    """A change refused; the message says why and what to do."""


@dataclass(frozen=True)
class RefusalKind:
    code: str
    template: str

    def __call__(self, **params: object) -> "Refusal":
        return Refusal(self, params)


class Refusal(DomainError):
    """One refusal: its kind (code and English template) and the params that explain it."""

    def __init__(self, kind: RefusalKind, params: Mapping[str, object] | None = None) -> None:
        self.kind = kind
        self.params = dict(params or {})
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return self.kind.code

    @property
    def template(self) -> str:
        return self.kind.template

    @property
    def message(self) -> str:
        return self.kind.template % self.params


REFUSAL_KINDS: dict[str, RefusalKind] = {}


def refusal(code: str, template: str) -> RefusalKind:
    """Define a refusal kind; a code names one rule in the whole panel."""
    if code in REFUSAL_KINDS:
        raise ValueError(f"the refusal code {code!r} is defined twice")
    kind = RefusalKind(code, template)
    REFUSAL_KINDS[code] = kind
    return kind


TEXT_TOO_LONG = refusal(
    "text_too_long", "%(label)s is %(length)s characters long; at most %(limit)s fit"
)


def check_fits(column: "Column", value: str, label: Term) -> None:
    """Refuse text longer than its column holds, before the database does it less kindly."""
    limit = getattr(column.type, "length", None)
    if limit is not None and len(value) > limit:
        raise TEXT_TOO_LONG(label=label, length=len(value), limit=limit)
