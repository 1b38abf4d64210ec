"""Two-factor sign-in through the pages, on both databases: the code step at both doors, replayed
and simultaneous codes, throttling, recovery codes, setting up and turning off, and the owner's
rule that every operator uses it.

Wrong codes count as failed sign-ins of the address too, so these tests run on panels of their
own: on the shared panel they would throttle other tests' sign-ins."""

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pyotp
import pytest_asyncio
from harness import PanelProcess, panel_of_its_own
from page_client import (
    PASSWORD,
    PageClient,
    csrf_token,
    customer_with_password,
    operator_account,
    text_of,
    unique,
)

from smmpanel.accounts import two_factor
from smmpanel.accounts.operators import create_operator, operator_by_name
from smmpanel.accounts.passwords import hash_password
from smmpanel.accounts.two_factor import Account
from smmpanel.db import Database
from smmpanel.db.base import utcnow
from smmpanel.pagekit.throttle import MAX_FAILURES_PER_NAME
from smmpanel.panel.service import get_settings

SECRET_TEXT = re.compile(r'<code id="secret">([A-Z2-7 ]+)</code>')
SIGNED_SECRET = re.compile(r'name="secret" value="([^"]+)"')
RECOVERY_CODE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


@pytest_asyncio.fixture(scope="module")
async def own(backend, tmp_path_factory) -> AsyncIterator[tuple[PanelProcess, Database]]:
    """A panel of this module's own: wrong codes would count against 127.0.0.1 on the shared one."""
    folder = tmp_path_factory.mktemp(f"two-factor-{backend}")
    async with panel_of_its_own(backend, folder) as made:
        yield made


async def _turned_on(db: Database, account: Account) -> tuple[pyotp.TOTP, list[str]]:
    """Two-factor sign-in turned on a minute ago with a code of then: the app and the codes."""
    secret = two_factor.new_secret()
    then = utcnow() - timedelta(minutes=1)
    async with db.write() as conn:
        codes = await two_factor.turn_on(conn, account, secret, pyotp.TOTP(secret).at(then), then)
    return pyotp.TOTP(secret), codes


async def _customer_with_two_factor(db: Database) -> tuple[str, pyotp.TOTP, list[str]]:
    customer_id, name = await customer_with_password(db)
    app, codes = await _turned_on(db, Account("customer", customer_id))
    return name, app, codes


async def _is_on(db: Database, account: Account) -> bool:
    async with db.read() as conn:
        return await two_factor.is_on(conn, account)


async def _enter_code(client: PageClient, code: str, door: str = "/signin") -> object:
    return await client.submit(f"{door}/code", {"code": code}, page=f"{door}/code")


def _no_session_cookie(response, cookie: str = "smm_session") -> bool:
    return not any(c.startswith(f"{cookie}=") for c in response.headers.get_list("set-cookie"))


async def test_a_customer_signs_in_with_a_code_of_the_app_and_its_replay_is_refused(own):
    panel, db = own
    name, app, _ = await _customer_with_two_factor(db)
    client, thief = PageClient(panel.url), PageClient(panel.url)
    password_only = await client.sign_in(name)
    assert password_only.status_code == 303
    assert password_only.headers["location"] == "/signin/code"
    assert _no_session_cookie(password_only)
    assert (await client.get("/dashboard")).status_code == 303, "no session before the code"
    assert "authenticator app" in text_of(await client.page("/signin/code"))
    code = app.now()
    signed_in = await _enter_code(client, code)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"
    assert (await client.get("/dashboard")).status_code == 200
    assert (await thief.sign_in(name)).headers["location"] == "/signin/code"
    replayed = await _enter_code(thief, code)
    assert replayed.status_code == 401 and "Wrong code" in text_of(replayed.text)
    assert _no_session_cookie(replayed)
    await client.close()
    await thief.close()


async def test_two_sign_ins_with_one_code_at_once_let_one_in(own):
    panel, db = own
    name, app, _ = await _customer_with_two_factor(db)
    clients = [PageClient(panel.url), PageClient(panel.url)]
    tokens = []
    for client in clients:
        assert (await client.sign_in(name)).status_code == 303
        tokens.append(csrf_token(await client.page("/signin/code")))
    code = app.now()
    answers = await asyncio.gather(
        *(
            client.http.post("/signin/code", data={"code": code, "csrf_token": token})
            for client, token in zip(clients, tokens, strict=True)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [303, 401]
    for client in clients:
        await client.close()


async def test_a_recovery_code_signs_in_once(own):
    panel, db = own
    name, _, codes = await _customer_with_two_factor(db)
    first, second = PageClient(panel.url), PageClient(panel.url)
    await first.sign_in(name)
    assert (await _enter_code(first, codes[3].upper())).status_code == 303
    assert (await first.get("/dashboard")).status_code == 200
    await second.sign_in(name)
    assert (await _enter_code(second, codes[3])).status_code == 401
    await first.close()
    await second.close()


async def test_an_operator_signs_in_with_a_code_at_the_admin_door(own):
    panel, db = own
    name = await operator_account(db)
    async with db.read() as conn:
        operator = await operator_by_name(conn, name)
    assert operator is not None
    app, _ = await _turned_on(db, Account("operator", operator.id))
    client = PageClient(panel.url)
    password_only = await client.operator_sign_in(name)
    assert password_only.headers["location"] == "/admin/signin/code"
    assert _no_session_cookie(password_only, "smm_operator")
    assert (await client.get("/admin")).status_code == 303
    signed_in = await _enter_code(client, app.now(), "/admin/signin")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/admin"
    assert (await client.get("/admin")).status_code == 200
    await client.close()


async def test_the_code_step_needs_a_right_password_first(own):
    panel, db = own
    name, app, _ = await _customer_with_two_factor(db)
    client = PageClient(panel.url)
    assert (await client.get("/signin/code")).headers["location"] == "/signin"
    await client.page("/signin")
    client.http.cookies.set("smm_session_pending", "forged.0000")
    token = csrf_token(await client.page("/signin"))
    posted = await client.http.post("/signin/code", data={"code": app.now(), "csrf_token": token})
    assert posted.status_code == 303 and posted.headers["location"] == "/signin"
    assert _no_session_cookie(posted)
    # A customer's pending step does not open the operators' door.
    await client.sign_in(name)
    assert (await client.get("/admin/signin/code")).headers["location"] == "/admin/signin"
    await client.close()


async def test_wrong_codes_are_throttled_as_wrong_passwords_are(throttled_panel):
    panel, db = throttled_panel
    name, app, _ = await _customer_with_two_factor(db)
    client = PageClient(panel.url)
    await client.sign_in(name)
    wrong = f"{(int(app.now()) + 500_000) % 1_000_000:06d}"
    for _ in range(MAX_FAILURES_PER_NAME):
        assert (await _enter_code(client, wrong)).status_code == 401
    throttled = await _enter_code(client, app.now())
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
    # The right password again does not wipe the failures of the code step.
    assert (await client.sign_in(name)).status_code == 429
    await client.close()


async def test_setting_up_needs_a_confirming_code_and_shows_the_recovery_codes_once(own):
    panel, db = own
    customer_id, name = await customer_with_password(db)
    account = Account("customer", customer_id)
    client = PageClient(panel.url)
    await client.sign_in(name)
    page = await client.page("/account/two-factor")
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0]
    secret = SECRET_TEXT.search(page).group(1).replace(" ", "")
    signed_secret = SIGNED_SECRET.search(page).group(1)
    app = pyotp.TOTP(secret)
    wrong = f"{(int(app.now()) + 500_000) % 1_000_000:06d}"
    fields = {"secret": signed_secret, "code": wrong}
    refused = await client.submit("/account/two-factor/on", fields, page="/account/two-factor")
    assert refused.status_code == 400 and "does not match" in text_of(refused.text)
    assert not await _is_on(db, account)
    for forged_secret in (signed_secret.replace(".", ".0"), "ü.é", ""):
        forged = {"secret": forged_secret, "code": app.now()}
        refused = await client.submit("/account/two-factor/on", forged, page="/account/two-factor")
        assert refused.status_code == 400 and "too old" in text_of(refused.text)
    assert not await _is_on(db, account)
    fields = {"secret": signed_secret, "code": app.now()}
    turned_on = await client.submit("/account/two-factor/on", fields, page="/account/two-factor")
    assert turned_on.status_code == 303 and await _is_on(db, account)
    shown = RECOVERY_CODE.findall(await client.follow(turned_on))
    assert len(shown) == two_factor.RECOVERY_CODE_COUNT
    assert RECOVERY_CODE.findall(await client.page("/account/two-factor")) == []
    other = PageClient(panel.url)
    await other.sign_in(name)
    assert (await _enter_code(other, shown[0])).status_code == 303
    await client.close()
    await other.close()


async def test_turning_off_needs_the_password_and_a_code(own):
    panel, db = own
    customer_id, name = await customer_with_password(db)
    account = Account("customer", customer_id)
    app, codes = await _turned_on(db, account)
    client = PageClient(panel.url)
    await client.sign_in(name)
    await _enter_code(client, app.now())

    async def turn_off(password: str, code: str):
        fields = {"password": password, "code": code}
        return await client.submit("/account/two-factor/off", fields, page="/account/two-factor")

    wrong_password = await turn_off("not the password", codes[0])
    assert wrong_password.status_code == 400 and "password is wrong" in text_of(wrong_password.text)
    wrong_code = await turn_off(PASSWORD, app.now())  # used to sign in already
    assert wrong_code.status_code == 400 and "Wrong code" in text_of(wrong_code.text)
    assert await _is_on(db, account)
    turned_off = await turn_off(PASSWORD, codes[0])
    assert turned_off.status_code == 303 and not await _is_on(db, account)
    other = PageClient(panel.url)
    assert (await other.sign_in(name)).headers["location"] == "/dashboard"
    await client.close()
    await other.close()


SETTINGS = {
    "name": "SMM Panel",
    "currency": "USD",
    "payment_instructions": "",
    "default_language": "en",
}


async def test_the_owner_can_require_two_factor_of_every_operator(backend, tmp_path):
    async with panel_of_its_own(backend, tmp_path) as (panel, db):
        owner_name = await operator_account(db)
        support_name = unique("support")
        async with db.write() as conn:
            await create_operator(conn, support_name, await hash_password(PASSWORD), "support")
            support_id = (await operator_by_name(conn, support_name)).id
        owner, support = PageClient(panel.url), PageClient(panel.url)
        assert (await owner.operator_sign_in(owner_name)).status_code == 303
        assert (await support.operator_sign_in(support_name)).status_code == 303

        required = {**SETTINGS, "operators_need_two_factor": "on"}
        refused = await owner.submit("/admin/settings", required, page="/admin/settings")
        assert refused.status_code == 400 and "for yourself first" in text_of(refused.text)
        page = await owner.page("/admin/two-factor")
        secret = SECRET_TEXT.search(page).group(1).replace(" ", "")
        fields = {"secret": SIGNED_SECRET.search(page).group(1), "code": pyotp.TOTP(secret).now()}
        turned_on = await owner.submit("/admin/two-factor/on", fields, page="/admin/two-factor")
        assert turned_on.status_code == 303
        saved = await owner.submit("/admin/settings", required, page="/admin/settings")
        assert saved.status_code == 303
        async with db.read() as conn:
            assert (await get_settings(conn)).operators_need_two_factor

        # The operator without it is signed out, and sets it up before any other page.
        assert (await support.get("/admin")).status_code == 303
        password_only = await support.operator_sign_in(support_name)
        assert password_only.headers["location"] == "/admin/signin/set-up"
        assert _no_session_cookie(password_only, "smm_operator")
        assert (await support.get("/admin/two-factor")).status_code == 303
        set_up = await support.page("/admin/signin/set-up")
        assert "requires two-factor sign-in" in text_of(set_up)
        app = pyotp.TOTP(SECRET_TEXT.search(set_up).group(1).replace(" ", ""))
        wrong_code = f"{(int(app.now()) + 500_000) % 1_000_000:06d}"
        fields = {"secret": SIGNED_SECRET.search(set_up).group(1), "code": wrong_code}
        wrong = await support.submit("/admin/signin/set-up", fields, page="/admin/signin/set-up")
        assert wrong.status_code == 400
        fields["code"] = app.now()
        done = await support.submit("/admin/signin/set-up", fields, page="/admin/signin/set-up")
        assert done.status_code == 303 and done.headers["location"] == "/admin/two-factor"
        assert len(RECOVERY_CODE.findall(await support.follow(done))) == 10
        assert await _is_on(db, Account("operator", support_id))
        assert (await support.get("/admin")).status_code == 200

        # While the rule stands, it cannot be turned off.
        fields = {"password": PASSWORD, "code": app.now()}
        kept = await support.submit("/admin/two-factor/off", fields, page="/admin/two-factor")
        assert kept.status_code == 400 and "cannot be turned off" in text_of(kept.text)
        assert await _is_on(db, Account("operator", support_id))
        await owner.close()
        await support.close()
