"""The largest values an INTEGER and a BIGINT column hold, on both databases.

Kept out of `smmpanel.db`, whose import brings in SQLAlchemy, so that the command line can
bound its options with them without that cost.
"""

MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1


def typed_id(text: str) -> int | None:
    """The id a person typed (ASCII digits that fit a BIGINT), or None if it is not one: a
    name, or digits no record has (`"²".isdigit()` is true, yet `int("²")` fails)."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_INT64 else None
