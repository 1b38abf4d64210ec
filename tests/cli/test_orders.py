"""order, refill and cancel: the money each change moves, made at most once."""

import re
from decimal import Decimal

from cli_helpers import (
    expected_charge,
    expected_refund,
    printed_refund,
    table_rows,
)
from sqlalchemy import func, select

from smmpanel.accounts.models import ledger_entries
from smmpanel.accounts.service import customer_name


async def refund_rows(db, order_id: int) -> int:
    async with db.read() as conn:
        return await conn.scalar(
            select(func.count()).where(
                ledger_entries.c.order_id == order_id, ledger_entries.c.kind == "refund"
            )
        )


async def status_of(api, key: str, order_id: int) -> str:
    return (await api.call(key=key, action="status", order=order_id))["status"]


async def test_partial_then_again_then_canceled_refunds_exactly_and_once(
    cli, api, shop, db, new_order
):
    rate, quantity, remains = "1.234567", 333, 100
    customer_id, key = await shop.customer("5")
    order_id = await new_order(key, await shop.service(rate=rate), quantity)
    charge = expected_charge(rate, quantity)
    partial = expected_refund(charge, remains, quantity)
    assert (charge, partial) == (Decimal("0.411111"), Decimal("0.123456"))

    partial_args = ("order", "update", order_id, "--status", "Partial", "--remains", remains)
    assert printed_refund(cli.ok(*partial_args)) == partial
    assert await api.balance(key) == Decimal(5) - charge + partial
    assert printed_refund(cli.ok(*partial_args)) == 0
    async with db.read() as conn:
        name = await customer_name(conn, customer_id)
    listed = table_rows(cli.ok("order", "list", "--customer", name, "--status", "partial"))
    assert listed == [
        [str(order_id), name, listed[0][2], "Partial", "333", "0.411111", "100", listed[0][7]]
    ]

    output = cli.ok("order", "update", order_id, "--status", "Canceled")
    assert "is Canceled" in output and printed_refund(output) == charge - partial
    assert await api.balance(key) == Decimal(5)
    assert await refund_rows(db, order_id) == 2
    assert cli.ok("audit").startswith("books are right: ")


async def test_canceling_twice_refunds_once(cli, api, shop, db, new_order):
    _, key = await shop.customer("2")
    order_id = await new_order(key, await shop.service(rate="0.9"), 1000)
    assert await api.balance(key) == Decimal("1.1")
    cancel = ("order", "update", order_id, "--status", "canceled")
    assert printed_refund(cli.ok(*cancel)) == Decimal("0.9")
    assert printed_refund(cli.ok(*cancel)) == 0
    assert await api.balance(key) == Decimal(2)
    assert await refund_rows(db, order_id) == 1


async def test_refused_changes_say_why_and_change_nothing(cli, api, shop, new_order):
    _, key = await shop.customer("1")
    service = await shop.service()
    order_id = await new_order(key, service, 100)
    refusal = cli.refused("order", "update", order_id, "--status", "Partial")
    assert "needs --remains between 1 and 100" in refusal
    assert "unknown status 'Done'" in cli.refused("order", "update", order_id, "--status", "Done")
    assert "nothing to change" in cli.refused("order", "update", order_id)
    assert await status_of(api, key, order_id) == "Pending"

    cli.ok("order", "update", order_id, "--status", "Completed", "--start-count", 40)
    refusal = cli.refused("order", "update", order_id, "--status", "In progress")
    assert "is Completed and cannot become In progress" in refusal
    status = await api.call(key=key, action="status", order=order_id)
    assert (status["status"], status["start_count"], status["remains"]) == ("Completed", "40", "0")
    assert await api.balance(key) == Decimal("0.9")


async def test_refill_requests_are_listed_and_answered(cli, api, shop, new_order):
    _, key = await shop.customer("1")
    order_id = await new_order(key, await shop.service(refill=True), 100)
    cli.ok("order", "update", order_id, "--status", "Completed")
    refill_id = (await api.call(key=key, action="refill", order=order_id))["refill"]

    pending = table_rows(cli.ok("refill", "list", "--status", "pending"))
    assert [str(refill_id), str(order_id)] in [row[:2] for row in pending]
    assert cli.ok("refill", "update", refill_id, "--status", "in progress") == (
        f"refill {refill_id} is In progress\n"
    )
    assert await api.call(key=key, action="refill_status", refill=refill_id) == {
        "status": "In progress"
    }
    cli.ok("refill", "update", refill_id, "--status", "Completed")
    assert await api.call(key=key, action="refill_status", refill=refill_id) == {
        "status": "Completed"
    }
    # Closed, so the customer may ask again.
    assert "refill" in await api.call(key=key, action="refill", order=order_id)


async def test_cancel_requests_accepted_partly_fully_or_rejected(cli, api, shop, new_order):
    rate, quantity = "0.7", 150
    _, key = await shop.customer("1")
    service = await shop.service(rate=rate, cancel=True)
    partly, fully, rejected = [await new_order(key, service, quantity) for _ in range(3)]
    reply = await api.call(key=key, action="cancel", orders=f"{partly},{fully},{rejected}")
    assert [item["cancel"] for item in reply] == [1, 1, 1]
    request_of = {
        int(row[1]): row[0]
        for row in table_rows(cli.ok("cancel", "list"))
        if int(row[1]) in (partly, fully, rejected)
    }
    charge = expected_charge(rate, quantity)

    output = cli.ok("cancel", "resolve", request_of[partly], "--accept", "--remains", 40)
    assert "is Partial" in output
    assert printed_refund(output) == expected_refund(charge, 40, quantity)
    output = cli.ok("cancel", "resolve", request_of[fully], "--accept")
    assert "is Canceled" in output and printed_refund(output) == charge
    output = cli.ok("cancel", "resolve", request_of[rejected], "--reject")
    assert f"order {rejected} stays Pending" in output
    refusal = cli.refused("cancel", "resolve", request_of[rejected], "--accept")
    assert "no open cancel request" in refusal

    assert await status_of(api, key, rejected) == "Pending"
    expected = Decimal(1) - 2 * charge + expected_refund(charge, 40, quantity)
    assert await api.balance(key) == expected


async def test_a_completed_order_can_still_become_partial_once(cli, api, shop, new_order):
    rate, quantity = "2", 200
    _, key = await shop.customer("1")
    order_id = await new_order(key, await shop.service(rate=rate), quantity)
    cli.ok("order", "update", order_id, "--status", "Completed")
    partial = ("order", "update", order_id, "--status", "Partial", "--remains", 50)
    refund = expected_refund(expected_charge(rate, quantity), 50, quantity)
    assert printed_refund(cli.ok(*partial)) == refund
    refusal = cli.refused("order", "update", order_id, "--remains", 10)
    assert "remains were settled" in refusal
    assert await api.balance(key) == Decimal(1) - expected_charge(rate, quantity) + refund


async def test_a_closed_refill_cannot_change(cli, api, shop, new_order):
    _, key = await shop.customer("1")
    order_id = await new_order(key, await shop.service(refill=True), 100)
    cli.ok("order", "update", order_id, "--status", "Completed")
    refill_id = (await api.call(key=key, action="refill", order=order_id))["refill"]
    cli.ok("refill", "update", refill_id, "--status", "Rejected")
    refusal = cli.refused("refill", "update", refill_id, "--status", "Pending")
    assert "a closed refill cannot change" in refusal
    assert await api.call(key=key, action="refill_status", refill=refill_id) == {
        "status": "Rejected"
    }


async def subscribe(api, shop, balance: str, rate: str, **fields: object) -> tuple[str, int]:
    """A new customer's subscription (min 100, max 500) to a service fulfilled by hand."""
    _, key = await shop.customer(balance)
    service = await shop.service("Subscriptions", rate=rate, max_quantity=1000)
    reply = await api.call(
        key=key,
        action="add",
        service=service,
        username="natgeo",
        min=100,
        max=500,
        delay=0,
        **fields,
    )
    return key, reply["order"]


def printed_post_order(output: str) -> int:
    found = re.search(r": order (\d+) for ", output)
    assert found, output
    return int(found.group(1))


async def test_order_post_places_and_charges_each_post_then_pauses_when_short(cli, api, shop):
    rate = "1.234567"
    key, order_id = await subscribe(api, shop, "1.2", rate)

    output = cli.ok("order", "post", order_id, "--quantity", 150)
    charge = expected_charge(rate, 150)
    child = printed_post_order(output)
    assert output == (
        f"post 1 of subscription {order_id}: order {child} for 150, charged {charge}\n"
    )
    output = cli.ok("order", "post", order_id, "--quantity", 500)
    assert output.endswith(f"charged {expected_charge(rate, 500)}\n")
    balance = Decimal("1.2") - charge - expected_charge(rate, 500)
    assert await api.balance(key) == balance
    status = await api.call(key=key, action="status", order=order_id)
    assert (status["status"], status["posts"], status["orders"][0]) == ("Active", "2", child)

    refusal = cli.refused("order", "post", order_id, "--quantity", 500)
    assert (
        "balance is short of" in refusal and f"order update {order_id} --status Active" in refusal
    )
    assert await status_of(api, key, order_id) == "Paused"
    assert await api.balance(key) == balance
    refusal = cli.refused("order", "post", order_id, "--quantity", 100)
    assert "is Paused" in refusal and "smmpanel funds add" in refusal
    assert len((await api.call(key=key, action="status", order=order_id))["orders"]) == 2

    # The post's order is fulfilled like any other; a Partial refunds its share of its charge.
    output = cli.ok("order", "update", child, "--status", "Partial", "--remains", 50)
    assert printed_refund(output) == expected_refund(charge, 50, 150)
    assert cli.ok("audit").startswith("books are right: ")


async def test_order_post_completes_a_paid_up_front_subscription_at_its_last_post(cli, api, shop):
    key, order_id = await subscribe(api, shop, "5", "2", posts=2)
    assert await api.balance(key) == Decimal(5) - expected_charge("2", 1000)

    first = cli.ok("order", "post", order_id, "--quantity", 100)
    assert first.startswith(f"post 1 of 2 of subscription {order_id}: order ")
    assert first.endswith(" for 100, charged nothing (paid up front)\n")
    last = cli.ok("order", "post", order_id, "--quantity", 500)
    assert last.endswith(f"subscription {order_id} is Completed; nothing refunded\n")
    status = await api.call(key=key, action="status", order=order_id)
    assert (status["status"], status["posts"], len(status["orders"])) == ("Completed", "2", 2)
    assert await api.balance(key) == Decimal(5) - expected_charge("2", 1000)

    refusal = cli.refused("order", "post", order_id, "--quantity", 100)
    assert "is Completed: a finished subscription takes no more posts" in refusal
    assert cli.ok("audit").startswith("books are right: ")


async def test_order_post_refusals_say_what_to_do(cli, api, shop, new_order):
    key, order_id = await subscribe(api, shop, "5", "1")
    refusal = cli.refused("order", "post", order_id, "--quantity", 99)
    assert "between 100 and 500 (its min and max), not 99" in refusal
    assert "not 501" in cli.refused("order", "post", order_id, "--quantity", 501)
    plain = await new_order(key, await shop.service(), 100)
    assert "not a subscription" in cli.refused("order", "post", plain, "--quantity", 100)
    assert "see `smmpanel order list`" in cli.refused("order", "post", 10**12, "--quantity", 100)
    status = await api.call(key=key, action="status", order=order_id)
    assert (status["status"], status["posts"], status["orders"]) == ("Active", "0", [])
    assert await api.balance(key) == Decimal(5) - expected_charge("1", 100)
