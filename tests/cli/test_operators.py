"""operator add, password and list: the accounts that sign in to the admin pages."""

import httpx
from cli_helpers import table_rows, unique_name

PASSWORD = "operator password 1"


async def _operator_signs_in(panel, name: str, password: str) -> int:
    """The status of a sign-in at /admin/signin with these credentials."""
    async with httpx.AsyncClient(base_url=panel.url) as browser:
        page = (await browser.get("/admin/signin")).text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        fields = {"name": name, "password": password, "csrf_token": token}
        return (await browser.post("/admin/signin", data=fields)).status_code


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
    assert short.code == 1 and "at least 8 characters" in short.err
    assert name not in cli.ok("operator", "list")
    cli.checked("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    taken = cli.run("operator", "add", name, "--password-stdin", stdin=PASSWORD + "\n")
    assert taken.code == 1 and "exists already" in taken.err
    unknown = cli.run(
        "operator", "password", unique_name("nobody"), "--password-stdin", stdin=PASSWORD
    )
    assert unknown.code == 1 and "smmpanel operator list" in unknown.err
