"""Text the database can store, whichever way it came in (the API, the pages).

Both databases store any UTF-8 text except the NUL character: PostgreSQL refuses it (the
request would fail), SQLite keeps it (and every later comparison with it goes wrong).
"""

from urllib.parse import parse_qsl


class NotText(ValueError):
    """What was sent is not text the database can store."""


def check_storable(text: str) -> None:
    """UTF-8 without NUL (a lone surrogate cannot be written as UTF-8)."""
    if "\x00" in text:
        raise NotText
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotText from None


def urlencoded_pairs(data: bytes) -> list[tuple[str, str]]:
    """A query string or form body, read strictly: invalid UTF-8, raw or percent-encoded, and
    a NUL in a name or a value are refused rather than replaced."""
    try:
        pairs = parse_qsl(data.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise NotText from None
    for name, value in pairs:
        check_storable(name)
        check_storable(value)
    return pairs
