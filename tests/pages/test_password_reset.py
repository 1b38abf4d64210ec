"""A forgotten password: the reset link goes out through the outbox (read here from its table),
works once and for an hour, sets the new password and signs the account out everywhere; the
answer never tells whether an account exists; requests are throttled per address and account."""

import hashlib
import re
from datetime import timedelta

from harness import panel_of_its_own
from page_client import PASSWORD, PageClient, customer_with_password, text_of, unique
from sqlalchemy import func, select, update

from smmpanel.accounts.models import customers
from smmpanel.accounts.recovery import (
    LINKS_PER_ACCOUNT_PER_HOUR,
    REQUESTS_PER_ADDRESS_PER_HOUR,
    account_tokens,
)
from smmpanel.db.base import utcnow
from smmpanel.outbox.models import outbox

NEW_PASSWORD = "a brand new passphrase"
RESET_LINK = re.compile(r"(https?://\S+)(/password/reset/[A-Za-z0-9_-]+)")
SAME_ANSWER = "If an account has that address, a link is on its way."


async def customer_with_email(db) -> tuple[int, str, str]:
    """A customer who can sign in and has an e-mail address: (id, name, address)."""
    customer_id, name = await customer_with_password(db)
    email = f"{name}@example.test"
    async with db.write() as conn:
        await conn.execute(
            update(customers).where(customers.c.id == customer_id).values(email=email)
        )
    return customer_id, name, email


async def mails_to(db, address: str) -> list:
    async with db.read() as conn:
        query = select(outbox.c.subject, outbox.c.body).where(outbox.c.recipient == address)
        return list((await conn.execute(query.order_by(outbox.c.id))).all())


async def outbox_size(db) -> int:
    async with db.read() as conn:
        return await conn.scalar(select(func.count()).select_from(outbox))


async def ask_for_link(client: PageClient, name_or_email: str):
    return await client.submit(
        "/password/forgot", {"name_or_email": name_or_email}, page="/password/forgot"
    )


def reset_path(body: str, panel_url: str) -> str:
    found = RESET_LINK.search(body)
    assert found, body
    assert found.group(1) == panel_url  # absolute, on the panel's own address
    return found.group(2)


async def reset_link_for(client: PageClient, db, panel_url: str, name: str, email: str) -> str:
    """Ask for a link as `client` and read its path from the newest mail to `email`."""
    response = await ask_for_link(client, name)
    assert response.status_code == 303, response.text[:500]
    return reset_path((await mails_to(db, email))[-1].body, panel_url)


async def set_password(
    client: PageClient, path: str, password: str = NEW_PASSWORD, page: str | None = None
):
    """Post the reset form, from the link's own page or (once the link is closed, which
    shows no form) with the token of another page of the same visitor."""
    fields = {"password": password, "password_again": password}
    return await client.submit(path, fields, page=page or path)


async def signed_in(client: PageClient) -> bool:
    return (await client.get("/dashboard")).status_code == 200


async def test_a_request_for_an_account_queues_one_reset_mail_with_its_link(panel, browser, db):
    customer_id, name, email = await customer_with_email(db)
    response = await ask_for_link(browser, name)
    assert response.status_code == 303
    assert SAME_ANSWER in text_of(await browser.follow(response))
    [mail] = await mails_to(db, email)
    assert "Reset your password" in mail.subject
    assert name in mail.body
    path = reset_path(mail.body, panel.url)
    token = path.rsplit("/", 1)[1]
    async with db.read() as conn:
        stored = (
            await conn.execute(
                select(account_tokens.c.token_hash, account_tokens.c.expires_at).where(
                    account_tokens.c.customer_id == customer_id
                )
            )
        ).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()  # the digest only
    page = await browser.page(path)
    assert "Choose a new password" in page and name in page


async def test_an_address_finds_its_account_in_any_case(panel, browser, db):
    _, _, email = await customer_with_email(db)
    assert (await ask_for_link(browser, email.upper())).status_code == 303
    assert len(await mails_to(db, email)) == 1


async def test_an_unknown_name_gets_the_same_answer_and_nothing_is_queued(panel, db):
    _, name, _ = await customer_with_email(db)
    known, unknown = PageClient(panel.url), PageClient(panel.url)
    try:
        answer_known = await ask_for_link(known, name)
        before = await outbox_size(db)
        answer_unknown = await ask_for_link(unknown, unique("nobody"))
        assert await outbox_size(db) == before
        assert answer_unknown.status_code == answer_known.status_code == 303
        assert answer_unknown.headers["location"] == answer_known.headers["location"]
        page_known = text_of(await known.follow(answer_known))
        page_unknown = text_of(await unknown.follow(answer_unknown))
        assert page_unknown == page_known and SAME_ANSWER in page_unknown
    finally:
        await known.close()
        await unknown.close()


async def test_the_link_sets_the_password_once_and_signs_out_everywhere(panel, browser, db):
    _, name, email = await customer_with_email(db)
    elsewhere = PageClient(panel.url)
    try:
        assert (await elsewhere.sign_in(name)).status_code == 303
        path = await reset_link_for(browser, db, panel.url, name, email)

        differing = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "!"}
        refused = await browser.submit(path, differing, page=path)
        assert refused.status_code == 400 and "The two passwords differ." in text_of(refused.text)
        assert (await set_password(browser, path, "short")).status_code == 400
        assert await signed_in(elsewhere)  # nothing changed yet

        done = await set_password(browser, path)
        assert done.status_code == 303 and done.headers["location"] == "/signin"
        assert "Sign in with it" in text_of(await browser.follow(done))
        assert not await signed_in(elsewhere)
        assert (await browser.sign_in(name, PASSWORD)).status_code == 401
        assert (await browser.sign_in(name, NEW_PASSWORD)).status_code == 303

        used = await browser.get(path)
        assert used.status_code == 400 and "This link is expired or used" in used.text
        again = await set_password(browser, path, "yet another passphrase", page="/signin")
        assert again.status_code == 400 and "This link is expired or used" in again.text
        assert (await elsewhere.sign_in(name, NEW_PASSWORD)).status_code == 303
    finally:
        await elsewhere.close()


async def test_an_expired_link_is_refused(panel, browser, db):
    customer_id, name, email = await customer_with_email(db)
    path = await reset_link_for(browser, db, panel.url, name, email)
    async with db.write() as conn:
        await conn.execute(
            update(account_tokens)
            .where(account_tokens.c.customer_id == customer_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = await browser.get(path)
    assert expired.status_code == 400 and "This link is expired or used" in expired.text
    # A form loaded earlier, posted once the link expired, changes nothing.
    assert (await set_password(browser, path, page="/signin")).status_code == 400
    assert (await browser.sign_in(name, PASSWORD)).status_code == 303


async def test_using_a_newer_link_closes_the_older_one(panel, browser, db):
    _, name, email = await customer_with_email(db)
    older = await reset_link_for(browser, db, panel.url, name, email)
    newer = await reset_link_for(browser, db, panel.url, name, email)
    assert older != newer
    assert (await browser.get(older)).status_code == 200  # both open until one is used
    assert (await set_password(browser, newer)).status_code == 303
    assert (await browser.get(older)).status_code == 400


async def test_a_link_that_names_nothing_is_refused_plainly(browser):
    for token in ("x", "A" * 43, "%00"):
        response = await browser.get(f"/password/reset/{token}")
        assert response.status_code in (400, 404), response.text[:300]


async def test_requests_are_throttled_per_account_and_per_address(backend, tmp_path):
    async with panel_of_its_own(backend, tmp_path) as (own_panel, own_db):
        _, name, email = await customer_with_email(own_db)
        client = PageClient(own_panel.url)
        try:
            for _n in range(LINKS_PER_ACCOUNT_PER_HOUR + 1):
                answer = await ask_for_link(client, name)
                assert answer.status_code == 303  # the same answer past the account's limit
            assert len(await mails_to(own_db, email)) == LINKS_PER_ACCOUNT_PER_HOUR

            asked = LINKS_PER_ACCOUNT_PER_HOUR + 1
            for _n in range(REQUESTS_PER_ADDRESS_PER_HOUR - asked):
                assert (await ask_for_link(client, unique("nobody"))).status_code == 303
            throttled = await ask_for_link(client, unique("nobody"))
            assert throttled.status_code == 429
            assert "Wait an hour" in text_of(throttled.text)
        finally:
            await client.close()


async def test_a_link_posted_twice_at_once_sets_one_password(panel, browser, db):
    _, name, email = await customer_with_email(db)
    path = await reset_link_for(browser, db, panel.url, name, email)
    forms = [
        {"password": f"{NEW_PASSWORD} {n}", "password_again": f"{NEW_PASSWORD} {n}"}
        for n in range(4)
    ]
    answers = await browser.submit_at_once(path, forms, page=path)
    assert sorted(answer.status_code for answer in answers) == [303, 400, 400, 400]
    [winner] = [n for n, answer in enumerate(answers) if answer.status_code == 303]
    assert (await browser.sign_in(name, f"{NEW_PASSWORD} {winner}")).status_code == 303
