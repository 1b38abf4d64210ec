"""The customer's account page: a new password needs the current one and ends the other
sessions; a new address counts only once its link is opened; the signed-in browsers and
"sign out everywhere else"; language, time zone and e-mail choices."""

import re

from harness import panel_of_its_own
from page_client import PASSWORD, PageClient, customer_with_password, text_of, unique
from sqlalchemy import select, update

from smmpanel.accounts.models import customers
from smmpanel.outbox.models import outbox
from smmpanel.pagekit.throttle import MAX_FAILURES_PER_NAME

NEW_PASSWORD = "another fine passphrase"
VERIFY_LINK = re.compile(r"https?://\S+(/email/verify/[A-Za-z0-9_-]+)")


async def customer_row(db, customer_id: int):
    async with db.read() as conn:
        query = select(customers).where(customers.c.id == customer_id)
        return (await conn.execute(query)).one()


async def verify_path(db, address: str) -> str:
    """The link of the newest verification mail to `address`."""
    async with db.read() as conn:
        query = select(outbox.c.subject, outbox.c.body).where(outbox.c.recipient == address)
        mails = (await conn.execute(query.order_by(outbox.c.id))).all()
    assert mails, f"no mail to {address}"
    assert "Confirm your e-mail address" in mails[-1].subject
    found = VERIFY_LINK.search(mails[-1].body)
    assert found, mails[-1].body
    return found.group(1)


async def second_browser(panel, db, customer_id: int) -> PageClient:
    """Another browser signed in to the same customer."""
    name = (await customer_row(db, customer_id)).name
    client = PageClient(panel.url)
    assert (await client.sign_in(name)).status_code == 303
    return client


async def signed_in(client: PageClient) -> bool:
    return (await client.get("/account")).status_code == 200


async def test_the_account_page_needs_a_signed_in_customer(browser):
    response = await browser.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


async def test_the_page_lists_the_sessions_and_marks_this_one(panel, customer, db):
    client, customer_id = customer
    other = await second_browser(panel, db, customer_id)
    try:
        page = await client.page("/account")
        assert page.count("<tr") == 3  # the heading and two sessions
        assert text_of(page).count("This browser") == 1
        assert 'href="/account/two-factor"' in page and 'href="/api#keys"' in page
        assert 'href="/account"' in await client.page("/dashboard")  # the header's link
    finally:
        await other.close()


async def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(
    panel, customer, db
):
    client, customer_id = customer
    other = await second_browser(panel, db, customer_id)
    name = (await customer_row(db, customer_id)).name
    try:
        fields = {"current_password": "not my password", "password": NEW_PASSWORD}
        fields["password_again"] = NEW_PASSWORD
        wrong = await client.submit("/account/password", fields, page="/account")
        assert wrong.status_code == 400
        assert "Your current password is wrong." in text_of(wrong.text)
        assert NEW_PASSWORD not in wrong.text and "not my password" not in wrong.text
        assert await signed_in(other)

        fields["current_password"] = PASSWORD
        changed = await client.submit("/account/password", fields, page="/account")
        assert changed.status_code == 303
        assert "Password changed" in text_of(await client.follow(changed))
        assert await signed_in(client) and not await signed_in(other)
        assert (await other.sign_in(name, PASSWORD)).status_code == 401
        assert (await other.sign_in(name, NEW_PASSWORD)).status_code == 303
    finally:
        await other.close()


async def test_the_address_changes_only_once_its_link_is_opened(panel, customer, db):
    client, customer_id = customer
    address = f"{unique('new')}@example.test"
    fields = {"email": address, "current_password": "wrong password"}
    wrong = await client.submit("/account/email", fields, page="/account")
    assert wrong.status_code == 400 and address in wrong.text  # kept in the form

    fields["current_password"] = PASSWORD
    asked = await client.submit("/account/email", fields, page="/account")
    assert asked.status_code == 303
    assert address in text_of(await client.follow(asked))
    assert (await customer_row(db, customer_id)).email is None  # not yet

    path = await verify_path(db, address)
    stranger = PageClient(panel.url)  # the mail may be opened in another browser
    try:
        assert address in await stranger.page(path)
        assert (await customer_row(db, customer_id)).email is None  # opening asks first
        confirmed = await stranger.submit(path, {}, page=path)
        assert confirmed.status_code == 303
        row = await customer_row(db, customer_id)
        assert row.email == address and row.email_verified_at is not None
        used = await stranger.get(path)
        assert used.status_code == 400 and "This link is expired or used" in used.text
    finally:
        await stranger.close()
    assert "Verified" in text_of(await client.page("/account"))


async def test_a_bad_address_is_refused_and_an_unverified_one_can_be_sent_again(customer, db):
    client, customer_id = customer
    fields = {"email": "not an address", "current_password": PASSWORD}
    refused = await client.submit("/account/email", fields, page="/account")
    assert refused.status_code == 400 and "is not an e-mail address" in text_of(refused.text)

    nothing = await client.submit("/account/email/resend", {}, page="/account")
    assert nothing.status_code == 400  # no address at all

    address = f"{unique('old')}@example.test"
    async with db.write() as conn:
        await conn.execute(
            update(customers).where(customers.c.id == customer_id).values(email=address)
        )
    assert "Not verified" in text_of(await client.page("/account"))
    resent = await client.submit("/account/email/resend", {}, page="/account")
    assert resent.status_code == 303
    path = await verify_path(db, address)
    assert (await client.submit(path, {}, page=path)).status_code == 303
    assert (await customer_row(db, customer_id)).email_verified_at is not None


async def test_sign_out_everywhere_else(panel, customer, db):
    client, customer_id = customer
    others = [await second_browser(panel, db, customer_id) for _n in range(2)]
    try:
        done = await client.submit("/account/sessions/end-others", {}, page="/account")
        assert done.status_code == 303
        page = await client.follow(done)
        assert "Every other browser is signed out." in text_of(page)
        assert page.count("<tr") == 2  # the heading and this session
        for other in others:
            assert not await signed_in(other)
    finally:
        for other in others:
            await other.close()


async def test_the_time_zone_is_validated_and_the_preferences_saved(customer, db):
    client, customer_id = customer
    fields = {"language": "en", "time_zone": "Mars/Olympus_Mons"}
    refused = await client.submit("/account/preferences", fields, page="/account")
    assert refused.status_code == 400 and "is not a time zone" in text_of(refused.text)
    row = await customer_row(db, customer_id)
    assert row.time_zone is None and row.mail_order_updates  # nothing changed

    fields = {"language": "zh_TW", "time_zone": "Asia/Taipei"}  # the box left unchecked
    saved = await client.submit("/account/preferences", fields, page="/account")
    assert saved.status_code == 303
    row = await customer_row(db, customer_id)
    assert row.time_zone == "Asia/Taipei" and not row.mail_order_updates
    page = await client.follow(saved)
    assert "偏好設定已儲存" in page  # the new language, from its cookie
    assert "<option selected>Asia/Taipei</option>" in page

    fields = {"language": "en", "time_zone": "", "mail_order_updates": "1"}
    assert (await client.submit("/account/preferences", fields, page="/account")).is_redirect
    row = await customer_row(db, customer_id)
    assert row.time_zone is None and row.mail_order_updates


async def test_an_unknown_language_is_refused(customer):
    client, _ = customer
    fields = {"language": "xx", "time_zone": ""}
    refused = await client.submit("/account/preferences", fields, page="/account")
    assert refused.status_code == 400 and "Choose a language of the list." in refused.text


async def test_a_customer_without_a_password_cannot_pass_the_current_password_check(panel, db):
    """A customer made without a password (by the command line) never matches one."""
    customer_id, name = await customer_with_password(db)
    client = PageClient(panel.url)
    try:
        assert (await client.sign_in(name)).status_code == 303
        async with db.write() as conn:
            await conn.execute(
                update(customers).where(customers.c.id == customer_id).values(password_hash=None)
            )
        fields = {"current_password": "", "password": NEW_PASSWORD}
        fields["password_again"] = NEW_PASSWORD
        refused = await client.submit("/account/password", fields, page="/account")
        assert refused.status_code == 400
    finally:
        await client.close()


async def test_guessing_the_current_password_is_throttled_as_sign_ins_are(backend, tmp_path):
    async with panel_of_its_own(backend, tmp_path) as (own_panel, own_db):
        _, name = await customer_with_password(own_db)
        client = PageClient(own_panel.url)
        try:
            assert (await client.sign_in(name)).status_code == 303
            fields = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
            for guess in range(MAX_FAILURES_PER_NAME):
                fields["current_password"] = f"guess {guess}"
                wrong = await client.submit("/account/password", fields, page="/account")
                assert wrong.status_code == 400
            fields["current_password"] = PASSWORD
            throttled = await client.submit("/account/password", fields, page="/account")
            assert throttled.status_code == 429
            assert "Too many failed sign-ins" in text_of(throttled.text)
            other = PageClient(own_panel.url)
            assert (await other.sign_in(name)).status_code == 429  # the same counter
            await other.close()
        finally:
            await client.close()
