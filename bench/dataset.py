"""The benchmark's data set, written straight into a migrated database in bulk.

A catalogue of mixed service types in categories, one benchmark customer (a big balance, an
API key, a share of the orders), other customers, and existing orders spread over them. Every
order has its `charge` ledger entry (and its refund for Partial and Canceled orders), every
customer a deposit, and every balance is the sum of its ledger: `audit()` finds nothing.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import accumulate

from sqlalchemy import bindparam, func, insert, select, text

from smmpanel.accounts.audit import audit
from smmpanel.accounts.models import api_keys, customers, ledger_entries
from smmpanel.accounts.service import hash_key, new_api_key
from smmpanel.catalog.models import categories, customer_prices, services
from smmpanel.catalog.types import ORDER_TEXT_FIELDS, SERVICE_TYPES, Units
from smmpanel.db import Database, utcnow
from smmpanel.money import MICROS, charge_micros, partial_refund_micros
from smmpanel.orders import statuses
from smmpanel.orders.counts import fold_changes
from smmpanel.orders.models import orders

PLATFORMS = (
    "Instagram",
    "TikTok",
    "YouTube",
    "Facebook",
    "Twitter",
    "Telegram",
    "Spotify",
    "Twitch",
)
KINDS = ("Followers", "Likes", "Views", "Comments", "Shares")  # 8 × 5 = 40 categories
# How often each type appears in the catalogue (the rest of the 14 types: 2 each).
TYPE_WEIGHTS = {"Default": 60, "Package": 8, "Custom Comments": 5, "Subscriptions": 3}
ORDER_STATUSES = {  # status of the existing orders: mostly finished, as on a live panel
    statuses.COMPLETED: 60,
    statuses.PARTIAL: 5,
    statuses.CANCELED: 5,
    statuses.IN_PROGRESS: 15,
    statuses.PROCESSING: 5,
    statuses.PENDING: 10,
}
BENCH_BALANCE = 1_000_000_000 * MICROS  # enough for any number of `add` runs
ADD_SERVICE_RATE = 900_000  # 0.90 per 1000: an `add` of 100 costs 0.09
ADD_SERVICE_MAX = 1_000_000
BATCH = 10_000
SQLITE_CACHE_KIB = 512 * 1024
TABLES_WITH_GIVEN_IDS = ("categories", "services", "customers", "orders")


@dataclass
class Size:
    services: int = 2_000
    categories: int = len(PLATFORMS) * len(KINDS)
    customers: int = 200  # the benchmark customer and the others
    orders: int = 100_000
    bench_share: float = 0.05  # of the orders, the benchmark customer's


@dataclass
class DataSet:
    """What the benchmark needs to know about the data it made."""

    size: Size
    key: str
    customer_id: int
    add_service: int
    status_order: int
    multi_orders: list[int] = field(default_factory=list)
    bench_orders: int = 0


async def build(database_url: str, size: Size, seed: int = 1) -> DataSet:
    """Fill a freshly migrated database; the benchmark customer's key and chosen ids.

    The orders and their ledger entries are made and written a batch at a time, so a million
    of them never sit in memory at once."""
    rng = random.Random(seed)
    db = Database(database_url, pool_size=1)
    try:
        catalogue = _services(rng, size)
        key = new_api_key()
        async with db.write() as conn:
            if conn.dialect.name == "sqlite":  # the indexes of a million orders in memory
                await conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            await conn.execute(insert(categories), _categories(size))
            await conn.execute(insert(services), catalogue)
            await conn.execute(insert(customers), _customers(size))
            await conn.execute(insert(api_keys), _keys(size, key))
            await conn.execute(insert(customer_prices), _custom_prices(rng, size, catalogue))
            made = OrdersMade(balances=dict.fromkeys(range(1, size.customers + 1), 0))
            for order_rows, ledger_rows in _order_batches(rng, size, catalogue, made):
                await _bulk_insert(conn, orders, order_rows)
                await _bulk_insert(conn, ledger_entries, ledger_rows)
            await _bulk_insert(conn, ledger_entries, _deposits(made.balances))
            await _set_balances(conn, made.balances)
            if conn.dialect.name == "postgresql":
                await _advance_sequences(conn)
        await _fold_order_counts(db)
        await _analyze(db)
        return _describe(rng, size, key, catalogue, made.bench_order_ids)
    finally:
        await db.dispose()


async def check_books(database_url: str) -> list[str]:
    """The panel's own audit of balances, charges and refunds."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.read() as conn:
            return await audit(conn)
    finally:
        await db.dispose()


async def count_orders(database_url: str, customer_id: int) -> int:
    db = Database(database_url, pool_size=1)
    try:
        async with db.read() as conn:
            query = select(func.count()).where(orders.c.customer_id == customer_id)
            return await conn.scalar(query)
    finally:
        await db.dispose()


def _categories(size: Size) -> list[dict]:
    names = [f"{platform} - {kind}" for platform in PLATFORMS for kind in KINDS]
    return [
        {
            "id": i + 1,
            "name": names[i % len(names)] + ("" if i < len(names) else f" {i}"),
            "position": i,
        }
        for i in range(size.categories)
    ]


def _services(rng: random.Random, size: Size) -> list[dict]:
    names = list(SERVICE_TYPES)
    weights = [TYPE_WEIGHTS.get(name, 2) for name in names]
    rows = []
    for i in range(size.services):
        category = i * size.categories // size.services
        kind = KINDS[category % len(KINDS)]
        type_name = "Default" if i == 0 else rng.choices(names, weights)[0]
        low, high = _limits(rng, SERVICE_TYPES[type_name].units)
        rows.append(
            {
                "id": i + 1,
                "category_id": category + 1,
                "name": f"{PLATFORMS[category // len(KINDS) % len(PLATFORMS)]} {kind} "
                f"[{rng.choice(('Real', 'HQ', 'Mixed', 'Bots', 'Premium'))}] "
                f"{rng.choice((1, 5, 10, 50, 100))}K/day #{i + 1}",
                "type": type_name,
                "rate": rng.randint(10, 50_000) * 1_000,  # 0.01 to 50 per 1000
                "min_quantity": low,
                "max_quantity": high,
                "description": f"Start: {rng.choice(('0-1h', '1-6h', '24h'))}, "
                f"Speed: {rng.choice((1, 5, 20))}K/day, "
                f"Refill: {rng.choice(('none', '30 days', 'lifetime'))}",
                "dripfeed": type_name == "Default" and rng.random() < 0.3,
                "refill": rng.random() < 0.4,
                "cancel": rng.random() < 0.3,
                "refill_days": 30,
                "enabled": True,
                "position": i,
            }
        )
    # The service `add` is measured on: Default, no drip-feed, room for any quantity.
    rows[0].update(
        rate=ADD_SERVICE_RATE, min_quantity=10, max_quantity=ADD_SERVICE_MAX, dripfeed=False
    )
    return rows


def _limits(rng: random.Random, units: Units) -> tuple[int, int]:
    if units is Units.FLAT:
        return 1, 1
    if units is Units.LINES:
        return rng.choice((1, 5, 10)), rng.choice((100, 500, 1000))
    return rng.choice((10, 20, 50, 100, 500)), rng.choice((5_000, 10_000, 100_000, 1_000_000))


def _customers(size: Size) -> list[dict]:
    now = utcnow()
    return [
        {
            "id": i,
            "name": "bench" if i == 1 else f"customer-{i:04d}",
            "name_key": "bench" if i == 1 else f"customer-{i:04d}",  # already their keys
            "email": None,
            "status": "active",
            "balance": 0,
            "created_at": now - timedelta(days=200),
        }
        for i in range(1, size.customers + 1)
    ]


def _keys(size: Size, bench_key: str) -> list[dict]:
    now = utcnow()
    return [
        {
            "customer_id": i,
            "key_hash": hash_key(bench_key if i == 1 else new_api_key()),
            "prefix": (bench_key if i == 1 else "other")[:6],
            "created_at": now,
            "revoked_at": None,
            "last_used_at": None,
        }
        for i in range(1, size.customers + 1)
    ]


def _custom_prices(rng: random.Random, size: Size, catalogue: list[dict]) -> list[dict]:
    """A few other customers with their own rates (never the benchmark customer)."""
    rows = []
    for customer_id in range(2, min(size.customers, 12) + 1):
        for service in rng.sample(catalogue, 20):
            rows.append(
                {
                    "customer_id": customer_id,
                    "service_id": service["id"],
                    "rate": max(1, service["rate"] * 9 // 10),
                }
            )
    return rows


@dataclass
class OrdersMade:
    """What the batches of orders leave behind: each customer's charges less refunds, and the
    benchmark customer's order ids."""

    balances: dict[int, int]  # customer id -> refunds minus charges, in micros
    bench_order_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Orderable:
    """A service as the order generator needs it, worked out once rather than per order."""

    row: dict
    flat: bool
    texts: tuple[str, ...]  # the text fields its type requires
    lines_field: str | None
    site: str  # for the links: instagram, tiktok...


def _orderable(catalogue: list[dict]) -> list[Orderable]:
    found = []
    for service in catalogue:
        if service["type"] == statuses.SUBSCRIPTIONS:
            continue
        service_type = SERVICE_TYPES[service["type"]]
        found.append(
            Orderable(
                row=service,
                flat=service_type.units is Units.FLAT,
                texts=tuple(name for name in ORDER_TEXT_FIELDS if name in service_type.required),
                lines_field=service_type.lines_field,
                site=service["name"].split()[0].lower(),
            )
        )
    return found


def _order_batches(
    rng: random.Random, size: Size, catalogue: list[dict], made: OrdersMade
) -> Iterator[tuple[list[dict], list[dict]]]:
    """The orders, oldest first, two minutes apart up to now, with their charge and refund
    ledger entries, BATCH at a time."""
    orderable = _orderable(catalogue)
    status_names = list(ORDER_STATUSES)
    cumulative = list(accumulate(ORDER_STATUSES.values()))
    now = utcnow()
    order_rows: list[dict] = []
    ledger_rows: list[dict] = []
    for order_id in range(1, size.orders + 1):
        customer_id = 1 if rng.random() < size.bench_share else rng.randint(2, size.customers)
        service = rng.choice(orderable)
        status = rng.choices(status_names, cum_weights=cumulative)[0]
        created = now - timedelta(minutes=(size.orders - order_id) * 2)
        row = _order(rng, order_id, customer_id, service, status, created)
        order_rows.append(row)
        entries = _order_entries(row)
        ledger_rows += entries
        made.balances[customer_id] += sum(entry["amount"] for entry in entries)
        if customer_id == 1:
            made.bench_order_ids.append(order_id)
        if len(order_rows) == BATCH:
            yield order_rows, ledger_rows
            order_rows, ledger_rows = [], []
    if order_rows:
        yield order_rows, ledger_rows


def _order(
    rng: random.Random, order_id: int, customer_id: int, service: Orderable, status: str, created
) -> dict:
    row = service.row
    low, high = row["min_quantity"], row["max_quantity"]
    quantity = 1 if service.flat else rng.randint(low, min(high, low * 20))
    runs = rng.randint(2, 5) if row["dripfeed"] and rng.random() < 0.1 else None
    finished = status in statuses.FINISHED
    remains = {statuses.COMPLETED: 0, statuses.CANCELED: quantity, statuses.PENDING: 0}.get(
        status, rng.randint(1, quantity)
    )
    link = f"https://{service.site}.com/p/seed{order_id}"
    order = dict.fromkeys(ORDER_TEXT_FIELDS)
    for name in service.texts:
        if name == service.lines_field:
            order[name] = "\n".join(f"line {n}" for n in range(quantity))
        else:
            order[name] = "2" if name == "answer_number" else "someone"
    order.update(
        id=order_id,
        customer_id=customer_id,
        service_id=row["id"],
        type=row["type"],
        status=status,
        link=link,
        active_link=None if finished else link,
        quantity=quantity,
        runs=runs,
        interval=30 if runs else None,
        # flat types cost the rate, as the panel charges them
        charge=row["rate"] if service.flat else charge_micros(row["rate"], quantity * (runs or 1)),
        start_count=rng.randint(0, 50_000),
        remains=remains,
        created_at=created,
        updated_at=created + timedelta(hours=1),
        finished_at=created + timedelta(hours=6) if finished else None,
    )
    return order


def _order_entries(order: dict) -> list[dict]:
    entries = [
        _entry(
            order["customer_id"],
            -order["charge"],
            "charge",
            order["created_at"],
            order["id"],
            "charge",
        )
    ]
    units = order["quantity"] * (order["runs"] or 1)
    refund = {
        statuses.CANCELED: (order["charge"], statuses.REFUND_REST),
        statuses.PARTIAL: (
            partial_refund_micros(order["charge"], order["remains"], units),
            statuses.REFUND_PRO_RATA,
        ),
    }.get(order["status"])
    if refund and refund[0] > 0:
        entries.append(
            _entry(
                order["customer_id"],
                refund[0],
                "refund",
                order["finished_at"],
                order["id"],
                refund[1],
            )
        )
    return entries


def _deposits(balances: dict[int, int]) -> list[dict]:
    """One deposit per customer: what their orders cost and some to spare. Adds each deposit
    to `balances`, which then holds each customer's balance."""
    start = utcnow() - timedelta(days=365)
    rows = []
    for customer_id, kept in balances.items():
        deposit = BENCH_BALANCE if customer_id == 1 else max(0, -kept) + 50 * MICROS
        balances[customer_id] = kept + deposit
        rows.append(_entry(customer_id, deposit, "deposit", start, None, None))
    return rows


def _entry(customer_id, amount, kind, created_at, order_id, cause) -> dict:  # type: ignore[no-untyped-def]
    reason = f"order {order_id}" if order_id else "bank transfer"
    return {
        "customer_id": customer_id,
        "amount": amount,
        "kind": kind,
        "cause": cause,
        "order_id": order_id,
        "reason": reason,
        "created_at": created_at,
    }


async def _bulk_insert(conn, table, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    """Many rows at once: COPY on PostgreSQL; on SQLite one executemany of the driver, each
    value converted by its column's type once (SQLAlchemy's executemany costs several times
    more per row)."""
    columns = list(rows[0])
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        await raw.driver_connection.copy_records_to_table(
            table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
        )
        return
    converters = [(name, _converter(conn.dialect, table.c[name].type)) for name in columns]
    names = ", ".join(f'"{name}"' for name in columns)
    marks = ", ".join("?" for _name in columns)
    await conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
        [tuple(convert(row[name]) for name, convert in converters) for row in rows],
    )


def _converter(dialect, column_type):  # type: ignore[no-untyped-def]
    return column_type.dialect_impl(dialect).bind_processor(dialect) or _unchanged


def _unchanged(value: object) -> object:
    return value


async def _set_balances(conn, balances: dict[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Every balance is the sum of its ledger, as the panel keeps it."""
    statement = (
        customers.update()
        .where(customers.c.id == bindparam("customer"))
        .values(balance=bindparam("balance"))
    )
    await conn.execute(
        statement,
        [{"customer": customer_id, "balance": amount} for customer_id, amount in balances.items()],
    )


async def _fold_order_counts(db: Database) -> None:
    """The order counts as a running worker keeps them: the changes the inserts made, folded."""
    while True:
        async with db.write() as conn:
            if not await fold_changes(conn):
                return


async def _analyze(db: Database) -> None:
    """The planner's statistics; on PostgreSQL a VACUUM too, as autovacuum would have run on a
    live panel: it marks the pages all-visible, which index-only scans need."""
    async with db.read() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))


async def _advance_sequences(conn) -> None:  # type: ignore[no-untyped-def]
    """Rows were written with their ids: move PostgreSQL's id sequences past them."""
    for table in TABLES_WITH_GIVEN_IDS:
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )


def _describe(
    rng: random.Random, size: Size, key: str, catalogue: list[dict], mine: list[int]
) -> DataSet:
    return DataSet(
        size=size,
        key=key,
        customer_id=1,
        add_service=catalogue[0]["id"],
        status_order=rng.choice(mine),
        multi_orders=rng.sample(mine, min(100, len(mine))),
        bench_orders=len(mine),
    )
