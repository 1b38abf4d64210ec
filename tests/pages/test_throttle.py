"""Sign-in is throttled after repeated failures: per name, and per address, across processes."""

from page_client import PASSWORD, PageClient, customer_with_password, operator_account, unique

from smmpanel.pagekit.throttle import MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_NAME


async def test_guessing_one_name_is_throttled_even_with_the_right_password(throttled_panel):
    own_panel, db = throttled_panel
    _, name = await customer_with_password(db)
    client = PageClient(own_panel.url)
    for _ in range(MAX_FAILURES_PER_NAME):
        assert (await client.sign_in(name, "wrong guess")).status_code == 401
    throttled = await client.sign_in(name, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed sign-ins" in throttled.text
    await client.close()


async def test_operator_sign_in_is_throttled_too(throttled_panel):
    own_panel, db = throttled_panel
    name = await operator_account(db)
    client = PageClient(own_panel.url)
    for _ in range(MAX_FAILURES_PER_NAME):
        assert (await client.operator_sign_in(name, "wrong guess")).status_code == 401
    assert (await client.operator_sign_in(name)).status_code == 429
    await client.close()


async def test_guessing_many_names_from_one_address_is_throttled(throttled_panel):
    own_panel, db = throttled_panel
    _, name = await customer_with_password(db)
    client = PageClient(own_panel.url)
    for _ in range(MAX_FAILURES_PER_ADDRESS):
        await client.sign_in(unique("guess"), "wrong guess")
    assert (await client.sign_in(name)).status_code == 429
    await client.close()
