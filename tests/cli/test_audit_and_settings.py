"""audit (exit code 1 on any problem) and settings."""

from sqlalchemy import update

from smmpanel.accounts.models import customers, ledger_entries
from smmpanel.orders.lifecycle import update_order
from smmpanel.orders.placement import place_order


async def set_balance_behind_the_ledger(db, customer_id: int, change: int) -> None:
    async with db.write() as conn:
        await conn.execute(
            update(customers)
            .where(customers.c.id == customer_id)
            .values(balance=customers.c.balance + change)
        )


async def test_audit_fails_on_a_balance_changed_outside_the_ledger(cli, shop, db):
    customer_id, _ = await shop.customer("1")
    assert cli.ok("audit").startswith("books are right: ")
    await set_balance_behind_the_ledger(db, customer_id, 1)
    try:
        outcome = cli.run("audit")
    finally:
        await set_balance_behind_the_ledger(db, customer_id, -1)
    assert outcome.code == 1
    assert f"customer {customer_id} " in outcome.out
    assert "balance 1000001 millionths, ledger sums to " in outcome.out
    assert "1 problem(s) in the books" in outcome.err
    assert cli.ok("audit").startswith("books are right: ")


async def move_refund_and_balance(db, order_id: int, customer_id: int, change: int) -> None:
    """Change an order's refund and its customer's balance alike: the ledger still sums to the
    balance, but the refund is no longer what the order's status says."""
    async with db.write() as conn:
        await conn.execute(
            update(ledger_entries)
            .where(ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund")
            .values(amount=ledger_entries.c.amount + change)
        )
    await set_balance_behind_the_ledger(db, customer_id, change)


async def test_audit_fails_on_a_refund_its_order_does_not_call_for(cli, shop, db):
    customer_id, _ = await shop.customer("10")
    service = await shop.service(rate="1.234567")
    async with db.write() as conn:
        fields = {"service": str(service), "link": "https://example.com/audit", "quantity": "777"}
        order_id = await place_order(conn, customer_id, fields)
        await update_order(conn, order_id, status="Partial", remains=333)
    assert cli.ok("audit").startswith("books are right: ")
    await move_refund_and_balance(db, order_id, customer_id, -1)
    try:
        outcome = cli.run("audit")
    finally:
        await move_refund_and_balance(db, order_id, customer_id, 1)
    assert outcome.code == 1
    assert f"order {order_id} (Partial, remains 333 of 777): refunded 411110 millionths" in (
        outcome.out
    ), outcome.out
    assert "1 problem(s) in the books" in outcome.err
    assert cli.ok("audit").startswith("books are right: ")


async def test_settings_show_and_set(fresh_cli):
    cli = await fresh_cli()
    output = cli.ok(
        "settings",
        "set",
        "--name",
        "Panel ☕",
        "--currency",
        "twd",
        "--payment-instructions",
        "Bank 123\nReference: your name",
    )
    assert output == (
        "name: Panel ☕\n"
        "currency: TWD\n"
        "payment instructions: Bank 123\nReference: your name\n"
        "default language: en\n"
    )
    assert "three-letter code" in cli.refused("settings", "set", "--currency", "EURO")
    assert "nothing to change" in cli.refused("settings", "set")
    refusal = cli.refused("settings", "set", "--default-language", "fr")
    assert "the default language must be one of: en, zh_TW" in refusal
    assert cli.ok("settings", "show") == output
