"""The base of every refusal a domain explains to a person (CLI, pages)."""

from sqlalchemy import Column


class DomainError(Exception):
    """A change refused; the message says why and what to do."""


def check_fits(column: Column, value: str, label: str) -> None:
    """Refuse text longer than its column holds, before the database does it less kindly."""
    limit = getattr(column.type, "length", None)
    if limit is not None and len(value) > limit:
        raise DomainError(f"{label} is {len(value)} characters long; at most {limit} fit")
