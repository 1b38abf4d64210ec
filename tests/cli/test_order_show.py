"""order show, and answering a refill or cancel request by its order's id."""

from decimal import Decimal

from cli_helpers import expected_charge


def shown_fields(output: str) -> dict[str, str]:
    """The `label  value` lines before the first table of `order show`."""
    head = output.split("\n\n")[0].splitlines()
    return {line[:14].strip(): line[14:] for line in head}


async def test_order_show_tells_the_order_its_money_and_its_requests(cli, api, shop, new_order):
    _, key = await shop.customer("5")
    service = await shop.service(rate="1.5", cancel=True)
    order_id = await new_order(key, service, 200)
    charge = expected_charge("1.5", 200)
    assert (await api.call(key=key, action="cancel", orders=str(order_id)))[0]["cancel"] == 1

    fields = shown_fields(cli.ok("order", "show", order_id))
    assert (fields["order"], fields["status"], fields["quantity"]) == (
        str(order_id),
        "Pending",
        "200",
    )
    assert Decimal(fields["charge"]) == charge
    assert fields["forwarding"] == "fulfilled by hand"
    assert fields["service"].startswith(f"{service} (")

    output = cli.ok("cancel", "resolve", "--order", order_id, "--accept")
    assert f"accepted: order {order_id} is Canceled" in output
    shown = cli.ok("order", "show", order_id)
    assert shown_fields(shown)["status"] == "Canceled"
    ledger, _, cancels = shown.split("\n\n")[1:4]
    assert [line.split()[2] for line in ledger.splitlines()[2:]] == ["charge", "refund"]
    assert cancels.splitlines()[2].split()[1] == "Accepted"

    assert "has no open cancel request" in cli.refused(
        "cancel", "resolve", "--order", order_id, "--accept"
    )
    assert "give exactly one of" in cli.refused(
        "cancel", "resolve", "1", "--order", order_id, "--accept"
    )
    assert "no order 999999999" in cli.refused("order", "show", 999999999)


async def test_a_refill_is_answered_by_its_order_id(cli, api, shop, new_order):
    _, key = await shop.customer("5")
    order_id = await new_order(key, await shop.service(refill=True), 100)
    cli.ok("order", "update", order_id, "--status", "Completed")
    refill_id = (await api.call(key=key, action="refill", order=order_id))["refill"]

    assert cli.ok("refill", "update", "--order", order_id, "--status", "Completed") == (
        f"refill {refill_id} is Completed\n"
    )
    assert await api.call(key=key, action="refill_status", refill=refill_id) == {
        "status": "Completed"
    }
    assert "has no open refill request" in cli.refused(
        "refill", "update", "--order", order_id, "--status", "Completed"
    )
