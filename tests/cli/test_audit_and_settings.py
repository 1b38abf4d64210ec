"""audit (exit code 1 on any problem) and settings."""

from sqlalchemy import update

from smmpanel.accounts.models import customers


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
