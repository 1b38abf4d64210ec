"""Numbers past what a column holds are refused clearly, by every command that takes one."""

import pytest

HUGE = "99999999999999999999"  # past a BIGINT: the driver would refuse it with a traceback


@pytest.mark.parametrize(
    "args",
    [
        ("order", "update", "ORDER", "--start-count", HUGE),
        ("order", "update", "ORDER", "--remains", HUGE),
        ("order", "update", HUGE, "--status", "Completed"),
        ("order", "list", "--limit", HUGE),
        ("order", "list", "--customer", HUGE),
        ("order", "post", "ORDER", "--quantity", HUGE),
        ("order", "resolve", HUGE, "--cancel"),
        ("refill", "update", HUGE, "--status", "Completed"),
        ("cancel", "resolve", HUGE, "--accept"),
        ("cancel", "resolve", "1", "--accept", "--remains", HUGE),
        ("catalog", "service-enable", HUGE),
        ("price", "set", "CUSTOMER", HUGE, "1"),
        ("price", "set", HUGE, "SERVICE", "1"),
        ("provider", "balance", HUGE),
        ("provider", "edit", "1", "--sync-hours", HUGE),
        ("provider", "import", "1", "--decimals", HUGE),
        ("provider", "changes", "--limit", HUGE),
    ],
    ids=lambda args: " ".join(args).replace(HUGE, "HUGE"),
)
async def test_an_oversized_number_is_refused_without_a_traceback(cli, shop, new_order, args):
    customer_id, key = await shop.customer("10")
    service_id = await shop.service(rate="1")
    order_id = await new_order(key, service_id, 100)
    real = {"ORDER": order_id, "CUSTOMER": customer_id, "SERVICE": service_id}
    outcome = cli.run(*(real.get(arg, arg) for arg in args))
    assert outcome.code in (1, 2), outcome
    assert "Traceback" not in outcome.err, outcome.err
    assert "Invalid value" in outcome.err or outcome.err.startswith("error: "), outcome.err
