"""Names of accounts, customers' and operators': which may be taken, and when two are the same.

Two names are the same when their keys are: "Admin", " admin" and "ａｄｍｉｎ" are one name.
The key is what sign-in looks an account up by, what the sign-in throttle counts failures
under, and what a unique index keeps to one account of each kind.
"""

import unicodedata

from sqlalchemy import Table

from smmpanel.errors import N_, RefusalKind, check_fits, refusal

NAME_HAS_ODD_CHARACTER = refusal(
    "name_has_odd_character",
    "a name cannot contain spaces, control or invisible characters (%(character)s); choose another",
)


def name_key(name: str) -> str:
    """The name as names are compared: NFKC, case-folded, without white space around it."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    # Folding can undo NFKC for a few characters; normalising again makes the key stable.
    return unicodedata.normalize("NFKC", folded).strip()


def check_new_name(name: str) -> None:
    """Refuse a name with white space, control or format characters (U+202E, which reverses
    the text after it; U+200B, which is not seen): two such names look the same."""
    for character in name:
        if character.isspace() or unicodedata.category(character)[0] in "CZ":
            raise NAME_HAS_ODD_CHARACTER(character=f"U+{ord(character):04X}")


def checked_name(name: str, accounts: Table, needs_name: RefusalKind) -> tuple[str, str]:
    """A new name of `accounts` (customers or operators) as kept, and its key; refused
    (`needs_name` when empty) if an account may not be called so or it does not fit."""
    name = name.strip()
    if not name:
        raise needs_name()
    check_new_name(name)
    check_fits(accounts.c.name, name, N_("the name"))
    key = name_key(name)
    check_fits(accounts.c.name_key, key, N_("the name"))
    return name, key
