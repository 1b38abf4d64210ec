"""The API v2 actions: each takes the caller and the request's fields, returns the reply."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson

from smmpanel.accounts.service import ApiCustomer, authenticate, touch_api_key
from smmpanel.api_v2 import replies
from smmpanel.catalog.service import enabled_services
from smmpanel.db import Database
from smmpanel.db.hotpath import AUTHENTICATE_SQL, CALLER_CATALOG_STATE_SQL
from smmpanel.errors import Refusal
from smmpanel.money import render_balance
from smmpanel.orders import refusals
from smmpanel.orders.placement import place_in_transaction
from smmpanel.orders.queries import orders_status, status_statement
from smmpanel.orders.requests import refill_status, request_cancel, request_refill
from smmpanel.orders.validation import parse_positive_int
from smmpanel.panel.service import get_settings

MAX_IDS = 100
TOO_MANY_IDS = "Too many ids, maximum is 100"
SETTINGS_TTL_SECONDS = 5.0
# The catalogue cache is keyed on the version every catalogue change bumps; the age limit is a
# backstop for changes made without it (SQL by hand), so the list never stays stale for long.
# The version check catches every change made through the panel; the expiry heals a change
# made by hand in the database.
CATALOG_TTL_SECONDS = 5.0
MAX_CACHED_CATALOGS = 64

Reply = dict | list | bytes
Action = Callable[[ApiCustomer, dict[str, str]], Awaitable[Reply]]


class TooManyIds(Exception):
    pass


def split_ids(text: str) -> list[str]:
    ids = [part for part in map(str.strip, text.split(",")) if part]
    if len(ids) > MAX_IDS:
        raise TooManyIds
    return ids


class Api:
    """The actions, with the few caches they share in this process."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._currency = ("", 0.0)
        self._catalogs: dict[tuple[int, int | None], tuple[bytes, float]] = {}
        self._catalog_build = asyncio.Lock()
        self.actions: dict[str, Action] = {
            "balance": self.balance,
            "services": self.services,
            "add": self.add,
            "status": self.status,
            "refill": self.refill,
            "refill_status": self.refill_status,
            "cancel": self.cancel,
        }

    async def authenticate(
        self, key: str, action: str, fields: dict[str, str]
    ) -> ApiCustomer | None:
        """The customer holding `key`. The read actions read what they answer in the same
        statement, one round trip to the database instead of two (`ApiCustomer.read`)."""
        sql, params = self._statement_with_key(action, fields)
        customer = await authenticate(self.db.hot, key, sql, *params)
        if customer is not None and customer.key_needs_touch:
            async with self.db.write() as conn:
                await touch_api_key(conn, customer.key_id)
        return customer

    def _statement_with_key(self, action: str, fields: dict[str, str]) -> tuple[str, list]:
        if action == "services":
            return CALLER_CATALOG_STATE_SQL, []
        if action == "status":
            try:
                order_ids = [order_id for _, order_id in _given_order_ids(fields) if order_id]
            except TooManyIds:  # refused once the key is known to open: the key is checked first
                order_ids = []
            if order_ids:
                return status_statement(self.db.hot, order_ids)
        return AUTHENTICATE_SQL, []

    async def currency(self) -> str:
        currency, fetched_at = self._currency
        if time.monotonic() - fetched_at > SETTINGS_TTL_SECONDS:
            async with self.db.read() as conn:
                currency = (await get_settings(conn)).currency
            self._currency = (currency, time.monotonic())
        return currency

    async def balance(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        return {
            "status": "success",
            "balance": render_balance(customer.balance),
            "currency": await self.currency(),
        }

    async def services(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        [(version, custom)] = customer.read  # CALLER_CATALOG_STATE_SQL's own columns
        cache_key = (version, customer.id if custom else None)
        body = self._cached_catalog(cache_key)
        if body is None:
            body = await self._build_catalog(cache_key)
        return body

    async def _build_catalog(self, cache_key: tuple[int, int | None]) -> bytes:
        """One build at a time: requests that missed the cache together wait for it."""
        async with self._catalog_build:
            body = self._cached_catalog(cache_key)
            if body is None:
                async with self.db.read() as conn:
                    rows = await enabled_services(conn, cache_key[1])
                body = orjson.dumps([replies.service_entry(row) for row in rows])
                self._remember_catalog(cache_key, body)
        return body

    def _cached_catalog(self, cache_key: tuple[int, int | None]) -> bytes | None:
        body, cached_at = self._catalogs.get(cache_key, (None, 0.0))
        if body is None or time.monotonic() - cached_at > CATALOG_TTL_SECONDS:
            return None
        return body

    def _remember_catalog(self, cache_key: tuple[int, int | None], body: bytes) -> None:
        if len(self._catalogs) >= MAX_CACHED_CATALOGS:
            self._catalogs.clear()
        self._catalogs[cache_key] = (body, time.monotonic())

    async def add(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        order_id = await place_in_transaction(self.db, customer.id, fields)
        return {"status": "success", "order": order_id}

    async def status(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        given_ids = _given_order_ids(fields)
        found = await orders_status(self.db.hot, customer.read)
        rows, children = found.rows, found.children
        currency = await self.currency()
        if "orders" not in fields:
            order_id = given_ids[0][1] if given_ids else None
            if order_id not in rows:
                return replies.refused(refusals.INCORRECT_ORDER())
            return replies.order_status(rows[order_id], children.get(order_id), currency)
        not_found = replies.refused(refusals.INCORRECT_ORDER())
        return {
            given: replies.order_status(rows[oid], children.get(oid), currency)
            if oid in rows
            else not_found
            for given, oid in given_ids
        }

    async def refill(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        if "orders" in fields:
            ids = split_ids(fields["orders"])
            results = [await self._refill_one(customer, given) for given in ids]
            return [
                {"order": _id_reply(given), "refill": result}
                for given, result in zip(ids, results, strict=True)
            ]
        result = await self._refill_one(customer, fields.get("order", ""))
        return result if isinstance(result, dict) else {"refill": result}

    async def _refill_one(self, customer: ApiCustomer, given: str) -> int | dict:
        order_id = parse_positive_int(given)
        if order_id is None:
            return replies.refused(refusals.INCORRECT_ORDER())
        try:
            async with self.db.write() as conn:
                return await request_refill(conn, customer.id, order_id)
        except Refusal as refused:
            return replies.refused(refused)

    async def refill_status(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        if "refills" in fields:
            ids = split_ids(fields["refills"])
            statuses = [await self._refill_status_one(customer, given) for given in ids]
            return [
                {"refill": _id_reply(given), "status": status}
                for given, status in zip(ids, statuses, strict=True)
            ]
        status = await self._refill_status_one(customer, fields.get("refill", ""))
        return status if isinstance(status, dict) else {"status": status}

    async def _refill_status_one(self, customer: ApiCustomer, given: str) -> str | dict:
        refill_id = parse_positive_int(given)
        if refill_id is None:
            return replies.refused(refusals.REFILL_NOT_FOUND())
        try:
            async with self.db.read() as conn:
                return await refill_status(conn, customer.id, refill_id)
        except Refusal as refused:
            return replies.refused(refused)

    async def cancel(self, customer: ApiCustomer, fields: dict[str, str]) -> Reply:
        ids = split_ids(fields["orders"] if "orders" in fields else fields.get("order", ""))
        if not ids:
            return replies.refused(refusals.INCORRECT_ORDER())
        return [
            {"order": _id_reply(given), "cancel": await self._cancel_one(customer, given)}
            for given in ids
        ]

    async def _cancel_one(self, customer: ApiCustomer, given: str) -> int | dict:
        order_id = parse_positive_int(given)
        if order_id is None:
            return replies.refused(refusals.INCORRECT_ORDER())
        try:
            async with self.db.write() as conn:
                await request_cancel(conn, customer.id, order_id)
        except Refusal as refused:
            return replies.refused(refused)
        return 1


def _given_order_ids(fields: dict[str, str]) -> list[tuple[str, int | None]]:
    """The order ids of a status request as given, each with its number (None if not one)."""
    given = split_ids(fields["orders"]) if "orders" in fields else [fields.get("order", "")]
    return [(text, parse_positive_int(text)) for text in given]


def _id_reply(given: str) -> int | str:
    """Ids echo back as integers where they are numbers, as given otherwise."""
    order_id = parse_positive_int(given)
    return given if order_id is None else order_id
