"""What a process keeps between requests, one store for each database.

A panel's process serves one database, but tests and benchmarks serve several in one process,
and their catalogue versions and ids coincide: what was kept for one database must not answer
for another.
"""

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from smmpanel.db.engine import Database

Kept = TypeVar("Kept")


class PerDatabase(Generic[Kept]):
    """A store made by `new` for each database, dropped with it."""

    def __init__(self, new: Callable[[], Kept]) -> None:
        self._new = new
        self._stores: WeakKeyDictionary[Database, Kept] = WeakKeyDictionary()

    def of(self, db: Database) -> Kept:
        store = self._stores.get(db)
        if store is None:
            store = self._stores[db] = self._new()
        return store


class KeptWhileVersion(Generic[Kept]):
    """One value read from the database, kept while the version it was read at stays (the
    catalogue's version, which every catalogue change moves on)."""

    def __init__(self) -> None:
        self._kept: tuple[int, Kept] | None = None

    async def get(self, version: int, read: Callable[[], Awaitable[Kept]]) -> Kept:
        if self._kept is None or self._kept[0] != version:
            self._kept = (version, await read())
        return self._kept[1]
