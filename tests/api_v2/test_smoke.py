"""The newcomer's path: balance, add, status, over real HTTP."""

from decimal import Decimal

from smmpanel.accounts.audit import audit


async def test_add_charges_and_status_reports(api, shop, db):
    _, key = await shop.customer("10")
    service = await shop.service(rate="1.2")
    reply = await api.call(
        key=key, action="add", service=service, link="https://x.com/p", quantity=30
    )
    assert reply["status"] == "success" and isinstance(reply["order"], int)
    assert await api.balance(key) == Decimal("10") - Decimal("0.036")
    status = await api.call(key=key, action="status", order=reply["order"])
    assert status == {
        "order": str(reply["order"]),
        "status": "Pending",
        "charge": "0.0360",
        "start_count": "0",
        "remains": "0",
        "currency": "USD",
    }
    async with db.read() as conn:
        assert await audit(conn) == []
