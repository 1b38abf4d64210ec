"""operator add, password, role and list: the accounts that sign in to the admin pages."""

import httpx
from cli_helpers import table_rows, unique_name

from smmpanel.accounts import two_factor
from smmpanel.accounts.operators import operator_by_name
from smmpanel.db.base import utcnow

PASSWORD = "operator password 1"


async def _operator_signs_in(panel, name: str, password: str) -> int:
    """The status of a sign-in at /admin/signin with these credentials."""
    async with httpx.AsyncClient(base_url=panel.url) as browser:
        return (await _sign_in(browser, name, password)).status_code


async def _sign_in(browser: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    page = (await browser.get("/admin/signin")).text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    fields = {"name": name, "password": password, "csrf_token": token}
    return await browser.post("/admin/signin", data=fields)


async def _signed_in_operator(cli, panel) -> tuple[str, httpx.AsyncClient]:
    """A new operator, and a browser signed in as it."""
    name = unique_name("op")
    cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    browser = httpx.AsyncClient(base_url=panel.url)
    assert (await _sign_in(browser, name, PASSWORD)).status_code == 303
    assert await _is_signed_in(browser)
    return name, browser


async def _is_signed_in(browser: httpx.AsyncClient) -> bool:
    """Whether the admin pages open for this browser, rather than sending it to sign in."""
    return (await browser.get("/admin")).status_code == 200


async def test_an_added_operator_signs_in_and_a_new_password_replaces_the_old(cli, panel):
    name = unique_name("op")
    output = cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n").out
    assert f"({name})" in output and "/admin/signin" in output
    assert PASSWORD not in output
    assert name in [row[1] for row in table_rows(cli.ok("operator", "list"))]
    assert await _operator_signs_in(panel, name, PASSWORD) == 303

    cli.checked("operator", "password", name, "--password-stdin", stdin="a new password 2\n")
    assert await _operator_signs_in(panel, name, PASSWORD) == 401
    assert await _operator_signs_in(panel, name, "a new password 2") == 303


def test_operator_add_refuses_short_passwords_taken_names_and_unknown_operators(cli):
    name = unique_name("op")
    short = cli.run("operator", "add", name, "--password-stdin", stdin="short\n")
    assert short.code == 1 and "at least 10 characters" in short.err
    assert name not in cli.ok("operator", "list")
    cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    taken = cli.run("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert taken.code == 1 and "exists already" in taken.err
    unknown = cli.run(
        "operator", "password", unique_name("nobody"), "--password-stdin", stdin=PASSWORD
    )
    assert unknown.code == 1 and "smmpanel operator list" in unknown.err


async def test_a_new_password_ends_the_operators_sessions(cli, panel):
    name, browser = await _signed_in_operator(cli, panel)
    cli.checked("operator", "password", name, "--password-stdin", stdin="a new password 2\n")
    assert not await _is_signed_in(browser)
    await browser.aclose()


async def test_a_disabled_operator_is_signed_out_and_refused_until_enabled(cli, panel):
    name, browser = await _signed_in_operator(cli, panel)
    assert "is disabled" in cli.ok("operator", "disable", name)
    assert not await _is_signed_in(browser)
    refused = await _sign_in(browser, name, PASSWORD)
    assert refused.status_code == 403 and "This operator is disabled" in refused.text
    assert [name, "disabled"] == table_row_of(cli.ok("operator", "list"), name)[1:3]

    cli.checked("operator", "enable", name)
    assert (await _sign_in(browser, name, PASSWORD)).status_code == 303
    assert await _is_signed_in(browser)
    await browser.aclose()


async def test_a_removed_operator_is_signed_out_unlisted_and_its_name_free_again(cli, panel):
    name, browser = await _signed_in_operator(cli, panel)
    cli.checked("operator", "remove", name.upper())
    assert not await _is_signed_in(browser)
    assert (await _sign_in(browser, name, PASSWORD)).status_code == 401
    assert name not in cli.ok("operator", "list")
    assert "smmpanel operator list" in cli.refused("operator", "enable", name)
    cli.checked("operator", "add", name, "--password-stdin", stdin="another password 3\n")
    assert (await _sign_in(browser, name, "another password 3")).status_code == 303
    await browser.aclose()


async def test_the_last_active_operator_is_neither_disabled_nor_removed(fresh_cli):
    cli = await fresh_cli()
    first, second = unique_name("op"), unique_name("op")
    for name in (first, second):
        cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    cli.checked("operator", "disable", first)
    for command in ("disable", "remove"):
        refused = cli.refused("operator", command, second)
        assert "only active operator" in refused and "smmpanel operator add" in refused
    assert "active" in table_row_of(cli.ok("operator", "list"), second)
    cli.checked("operator", "remove", first)  # a disabled one goes: the active one stays


def test_operator_passwords_are_refused_when_common_and_names_when_odd(cli):
    common = cli.run("operator", "add", unique_name("op"), "--password-stdin", stdin="1234567890")
    assert common.code == 1 and "too common" in common.err
    odd = cli.run("operator", "add", "op\u202e1", "--password-stdin", stdin=PASSWORD)
    assert odd.code == 1 and "U+202E" in odd.err
    name = unique_name("Op")
    cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD)
    taken = cli.run("operator", "add", name.lower(), "--password-stdin", stdin=PASSWORD)
    assert taken.code == 1 and "exists already" in taken.err


async def test_an_operator_added_with_a_role_gets_only_its_pages_until_given_another(cli, panel):
    name = unique_name("op")
    added = cli.checked(
        "operator", "add", name, "--role", "support", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert f"({name}) as support" in added.out
    assert table_row_of(cli.ok("operator", "list"), name)[2:4] == ["active", "support"]
    async with httpx.AsyncClient(base_url=panel.url) as browser:
        assert (await _sign_in(browser, name, PASSWORD)).status_code == 303
        assert (await browser.get("/admin/orders")).status_code == 200
        assert (await browser.get("/admin/catalog")).status_code == 403
        assert f"{name} is now admin" in cli.ok("operator", "role", name.upper(), "admin")
        assert (await browser.get("/admin/catalog")).status_code == 200
    assert table_row_of(cli.ok("operator", "list"), name)[3] == "admin"


def test_unknown_roles_are_refused_and_operators_are_owners_by_default(cli):
    name = unique_name("op")
    assert "there is no role 'boss'" in cli.refused("operator", "add", name, "--role", "boss")
    assert name not in cli.ok("operator", "list")
    cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert table_row_of(cli.ok("operator", "list"), name)[3] == "owner"
    assert "there is no role" in cli.refused("operator", "role", name, "root")
    assert "smmpanel operator list" in cli.refused("operator", "role", unique_name("x"), "admin")


async def test_the_last_active_owner_keeps_the_role_and_stays_active(fresh_cli):
    cli = await fresh_cli()
    owner, helper = unique_name("op"), unique_name("op")
    cli.checked("operator", "add", owner, "--password-stdin", stdin=PASSWORD + "\n")
    cli.checked(
        "operator", "add", helper, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    for command in (("role", owner, "finance"), ("disable", owner), ("remove", owner)):
        assert "only active owner" in cli.refused("operator", *command)
    assert table_row_of(cli.ok("operator", "list"), owner)[2:4] == ["active", "owner"]
    cli.checked("operator", "role", helper, "owner")
    cli.checked("operator", "role", owner, "finance")  # another owner is active now
    assert table_row_of(cli.ok("operator", "list"), owner)[3] == "finance"


async def test_two_factor_off_ends_the_sessions_of_an_operator_who_lost_the_phone(cli, panel, db):
    name, browser = await _signed_in_operator(cli, panel)
    async with db.write() as conn:
        operator = await operator_by_name(conn, name)
        assert operator is not None
        account = two_factor.Account("operator", operator.id)
        secret = two_factor.new_secret()
        now = utcnow()
        code = two_factor.code_at(secret, two_factor.time_step(now))
        await two_factor.turn_on(conn, account, secret, code, now)

    assert "is off; its sessions are ended" in cli.ok("operator", "two-factor-off", name.upper())
    assert not await _is_signed_in(browser)
    async with db.read() as conn:
        assert not await two_factor.is_on(conn, account)
    assert (await _sign_in(browser, name, PASSWORD)).headers["location"] == "/admin"
    await browser.aclose()
    assert "off already" in cli.refused("operator", "two-factor-off", name)
    unknown = cli.refused("operator", "two-factor-off", unique_name("nobody"))
    assert "smmpanel operator list" in unknown


def table_row_of(output: str, name: str) -> list[str]:
    return next(row for row in table_rows(output) if name in row)
