"""Sign-up, sign-in, sessions, CSRF and throttling of the pages, on both databases."""

import httpx
from page_client import PASSWORD, PageClient, customer_with_password, operator_account, unique
from sqlalchemy import select

from smmpanel.accounts.models import customers


async def test_sign_up_creates_a_customer_with_an_argon2_password_and_signs_in(browser, db):
    name = unique("newcomer")
    response = await browser.sign_up(name)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    session_cookie = response.headers.get_list("set-cookie")
    assert any(
        c.startswith("smm_session=") and "HttpOnly" in c and "SameSite=lax" in c
        for c in session_cookie
    )
    async with db.read() as conn:
        stored = await conn.scalar(
            select(customers.c.password_hash).where(customers.c.name == name)
        )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_sign_up_refuses_a_taken_name_short_password_and_mismatch(browser, db):
    _, taken = await customer_with_password(db)
    refused = await browser.sign_up(taken)
    assert refused.status_code == 400 and "taken" in refused.text
    short = await browser.sign_up(unique("short"), "abc")
    assert short.status_code == 400 and "at least 10" in short.text
    fields = {"name": unique("x"), "password": PASSWORD, "password_again": PASSWORD + "!"}
    mismatch = await browser.submit("/signup", fields, page="/signup")
    assert mismatch.status_code == 400 and "differ" in mismatch.text


async def test_wrong_password_is_refused_without_saying_which_part(browser, db):
    _, name = await customer_with_password(db)
    wrong = await browser.sign_in(name, "not the password")
    unknown = await browser.sign_in(unique("nobody"), PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong name or password" in wrong.text and "Wrong name or password" in unknown.text
    assert "smm_session=" not in wrong.headers.get("set-cookie", "")


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(browser, db):
    name = unique("forged")
    await browser.page("/signup")
    forged = await browser.http.post(
        "/signup", data={"name": name, "password": PASSWORD, "password_again": PASSWORD}
    )
    assert forged.status_code == 403
    async with db.read() as conn:
        assert await conn.scalar(select(customers.c.id).where(customers.c.name == name)) is None


async def test_a_token_from_another_visitor_is_refused(panel, browser, db):
    _, name = await customer_with_password(db)
    other = PageClient(panel.url)
    token_of_other = (await other.page("/signin")).split('name="csrf_token" value="')[1][:64]
    await other.close()
    await browser.page("/signin")
    response = await browser.http.post(
        "/signin", data={"name": name, "password": PASSWORD, "csrf_token": token_of_other}
    )
    assert response.status_code == 403


async def test_sign_out_ends_the_session(panel, db):
    _, name = await customer_with_password(db)
    client = PageClient(panel.url)
    assert (await client.sign_in(name)).status_code == 303
    cookie = client.http.cookies.get("smm_session")
    signed_out = await client.submit("/signout", {}, page="/signin")
    assert signed_out.status_code == 303
    # The old cookie, replayed, no longer signs anyone in.
    replay = httpx.AsyncClient(base_url=panel.url, cookies={"smm_session": cookie})
    home = await replay.get("/")
    assert home.status_code == 200 and "Sign in" in home.text
    await replay.aclose()
    await client.close()


async def test_customer_pages_need_a_customer_and_operator_pages_an_operator(customer, browser):
    client, _ = customer
    for path in ("/admin", "/admin/customers", "/admin/orders"):
        response = await client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/signin")
    response = await browser.get("/dashboard")
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")


async def test_sign_in_goes_back_only_to_pages_of_this_panel(browser, db):
    _, name = await customer_with_password(db)
    await browser.page("/signin")
    fields = {"name": name, "password": PASSWORD, "next": "//evil.example/steal"}
    response = await browser.submit("/signin", fields, page="/signin")
    assert response.headers["location"] == "/dashboard"


async def test_operator_signs_in_with_a_cookie_scoped_to_admin(browser, db):
    name = await operator_account(db)
    response = await browser.operator_sign_in(name)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("smm_operator=")
    )
    assert "Path=/admin" in cookie and "HttpOnly" in cookie


async def test_the_language_switch_translates_the_page(browser):
    english = await browser.page("/signin")
    assert "Password" in english
    switched = await browser.get("/language/zh_TW", next="/signin")
    assert switched.headers["location"] == "/signin"
    chinese = await browser.page("/signin")
    assert 'lang="zh-TW"' in chinese and "密碼" in chinese


async def test_unknown_pages_answer_a_page_not_a_traceback(browser):
    response = await browser.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
