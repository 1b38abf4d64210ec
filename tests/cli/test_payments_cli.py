"""payment method add, list, edit, disable and enable; payment list, show, approve and reject.

Payments are opened through the domain, as a customer's funds page would; everything else goes
through the `smmpanel` command."""

import json
from datetime import timedelta

import pytest
from cli_helpers import table_rows, unique_name

from smmpanel.accounts.service import balance_of
from smmpanel.errors import Refusal
from smmpanel.money import parse, to_micros
from smmpanel.payments.gateways import INFO, Notice
from smmpanel.payments.methods import find_method, is_credential, settings_known
from smmpanel.payments.service import (
    METHOD_DISABLED,
    apply_notice,
    open_payment,
    payment_by_id,
    record_notice,
)

# A currency each gateway takes.
GATEWAY_CURRENCIES = {"ecpay": "TWD", "stripe": "USD", "cryptomus": "USD"}


def gateway_settings(gateway: str) -> dict[str, str]:
    """A value for every setting the gateway needs, each one recognisable in output."""
    required, _ = settings_known(gateway)
    return {key: f"{key}-{unique_name('value')}" for key in required}


def setting_options(settings: dict[str, str]) -> list[str]:
    return [part for key, value in settings.items() for part in ("--setting", f"{key}={value}")]


def assert_masked(output: str, settings: dict[str, str]) -> None:
    """Credentials appear as KEY=*** and nowhere in full; the other settings as they are."""
    for key, value in settings.items():
        if is_credential(key):
            assert value not in output, output
            assert f"{key}=***" in output or f'"{key}": "***"' in output, output
        else:
            assert f"{key}={value}" in output or f'"{key}": "{value}"' in output, output


def method_documents(cli) -> dict[str, dict]:
    """`payment method list --json`, by name."""
    lines = cli.ok("payment", "method", "list", "--json").splitlines()
    return {document["name"]: document for document in map(json.loads, lines)}


def method_row(cli, name: str) -> list[str]:
    return next(row for row in table_rows(cli.ok("payment", "method", "list")) if row[1] == name)


def payment_documents(cli, *args: str) -> list[dict]:
    lines = cli.ok("payment", "list", "--json", *args).splitlines()
    return [json.loads(line) for line in lines]


async def open_one(db, customer_id: int, method: str, amount: str, reference=None) -> int:
    """A pending payment, opened as the customer's funds page opens one."""
    async with db.write() as conn:
        found = await find_method(conn, method)
        micros = to_micros(parse(amount))
        return await open_payment(conn, customer_id, found, micros, timedelta(days=1), reference)


def add_manual(cli, name: str, *options: str) -> str:
    return cli.ok("payment", "method", "add", name, "--gateway", "manual", *options)


# ---- methods


def test_a_manual_method_is_added_with_its_terms_as_typed(cli):
    name = unique_name("bank")
    output = add_manual(
        cli,
        name,
        "--currency",
        "twd",
        "--rate",
        "0.031",
        "--min",
        "100",
        "--max",
        "50000",
        "--fee-percent",
        "2.5",
        "--fee-fixed",
        "5",
        "--bonus-percent",
        "3",
        "--instructions",
        "Transfer to account 123",
    )
    document = method_documents(cli)[name]
    assert output.startswith(f"added payment method {document['id']} ({name}): manual, TWD")
    assert "rate 0.031" in output and "fee 2.5% + 5.00 TWD" in output
    assert "bonus 3%;" in output  # from any amount
    assert document | {"id": 0} == {
        "id": 0,
        "name": name,
        "name_zh": "",
        "gateway": "manual",
        "currency": "TWD",
        "rate": "0.031",
        "min": "100.00",
        "max": "50000.00",
        "fee_percent": "2.5",
        "fee_fixed": "5.00",
        "bonus_percent": "3",
        "bonus_from": "0.00",
        "enabled": True,
        "settings": {},
        "instructions": "Transfer to account 123",
        "instructions_zh": "",
    }
    row = method_row(cli, name)
    assert row[2:9] == ["manual", "TWD", "0.031", "100.00–50000.00", "2.5% + 5.00 TWD", "3%", "yes"]


def test_the_defaults_are_rate_1_from_1_to_a_million_without_fee_or_bonus(cli):
    name = unique_name("cash")
    add_manual(cli, name, "--currency", "USD")
    document = method_documents(cli)[name]
    assert {key: document[key] for key in ("rate", "min", "max", "fee_percent", "fee_fixed")} == {
        "rate": "1",
        "min": "1.00",
        "max": "1000000.00",
        "fee_percent": "0",
        "fee_fixed": "0.00",
    }
    assert (document["bonus_percent"], document["bonus_from"]) == ("0", "0.00")


@pytest.mark.parametrize("gateway", sorted(GATEWAY_CURRENCIES))
def test_a_gateway_method_takes_its_settings_and_never_prints_a_credential(cli, gateway):
    settings = gateway_settings(gateway)
    assert any(is_credential(key) for key in settings), settings  # each gateway has a credential
    if gateway == "ecpay":
        assert len(settings) == 3
    name = unique_name(gateway)
    currency = GATEWAY_CURRENCIES[gateway]
    output = cli.ok(
        "payment",
        "method",
        "add",
        name,
        "--gateway",
        gateway,
        "--currency",
        currency,
        *setting_options(settings),
    )
    assert f"({name}): {gateway}, {currency}" in output
    assert_masked(output, settings)
    assert_masked(json.dumps(method_documents(cli)[name]), settings)
    listed = cli.ok("payment", "method", "list")
    for value in (value for key, value in settings.items() if is_credential(key)):
        assert value not in listed


def test_a_missing_setting_is_refused_by_its_name(cli):
    settings = gateway_settings("ecpay")
    missing = list(settings)[-1]
    del settings[missing]
    name = unique_name("ecpay")
    refused = cli.refused(
        "payment", "method", "add", name, "--gateway", "ecpay", "--currency", "TWD",
        *setting_options(settings),
    )  # fmt: skip
    assert "ecpay needs the settings" in refused and missing in refused
    assert name not in method_documents(cli)


def test_unknown_gateways_and_currencies_are_refused(cli):
    name = unique_name("method")
    assert "unknown gateway 'paypal'" in cli.refused(
        "payment", "method", "add", name, "--gateway", "paypal", "--currency", "USD"
    )
    assert "'ZZZ' is not a currency manual takes" in cli.refused(
        "payment", "method", "add", name, "--gateway", "manual", "--currency", "zzz"
    )
    assert "not a currency manual takes" in cli.refused(
        "payment", "method", "add", name, "--gateway", "manual", "--currency", "DOLLAR"
    )
    ecpay = setting_options(gateway_settings("ecpay"))
    assert "'USD' is not a currency ecpay takes" in cli.refused(
        "payment", "method", "add", name, "--gateway", "ecpay", "--currency", "USD", *ecpay
    )
    assert "manual has no settings named token" in cli.refused(
        "payment", "method", "add", name, "--gateway", "manual", "--currency", "USD",
        "--setting", "token=abc",
    )  # fmt: skip
    assert name not in method_documents(cli)


def test_malformed_options_are_refused_without_echoing_a_credential(cli):
    name = unique_name("method")
    base = ("payment", "method", "add", name, "--gateway", "manual", "--currency", "USD")
    refused = cli.refused(*base, "--setting", "sk_live_pasted_alone")
    assert "KEY=VALUE" in refused and "sk_live_pasted_alone" not in refused
    assert "--rate: not an amount" in cli.refused(*base, "--rate", "abc")
    assert "between 0 and 100 percent" in cli.refused(*base, "--fee-percent", "100.5")
    assert "at most the maximum" in cli.refused(*base, "--min", "10", "--max", "5")
    assert "--bonus-from goes with --bonus-percent" in cli.refused(*base, "--bonus-from", "9")
    assert name not in method_documents(cli)


def test_a_bonus_from_an_amount_is_shown_with_it(cli):
    name = unique_name("bank")
    output = add_manual(
        cli, name, "--currency", "TWD", "--bonus-percent", "5", "--bonus-from", "1000"
    )
    assert "bonus 5% from 1000.00 TWD" in output
    assert method_documents(cli)[name]["bonus_from"] == "1000.00"


async def test_edit_changes_what_is_given_and_keeps_the_rest(cli):
    name, renamed = unique_name("bank"), unique_name("renamed")
    add_manual(cli, name, "--currency", "TWD", "--fee-percent", "1", "--max", "9000")
    method_id = method_documents(cli)[name]["id"]
    output = cli.ok(
        "payment", "method", "edit", name, "--name", renamed, "--rate", "0.5", "--min", "50"
    )
    assert output.startswith(f"payment method {method_id} ({renamed}) changed:")
    document = method_documents(cli)[renamed]
    assert (document["rate"], document["min"], document["max"]) == ("0.5", "50.00", "9000.00")
    assert document["fee_percent"] == "1" and name not in method_documents(cli)
    assert "at most the maximum" in cli.refused(
        "payment", "method", "edit", str(method_id), "--min", "9001"
    )
    assert method_documents(cli)[renamed]["min"] == "50.00"
    assert "nothing to change" in cli.refused("payment", "method", "edit", renamed)
    assert "no payment method 'nothing-here'" in cli.refused(
        "payment", "method", "edit", "nothing-here", "--rate", "2"
    )


def test_edit_replaces_and_removes_settings_and_keeps_the_required(cli):
    settings = gateway_settings("ecpay")
    secret = next(key for key in settings if is_credential(key))
    required_key = list(settings)[0]
    _, optional = settings_known("ecpay")
    name = unique_name("ecpay")
    cli.ok(
        "payment", "method", "add", name, "--gateway", "ecpay", "--currency", "TWD",
        *setting_options(settings),
    )  # fmt: skip
    output = cli.ok(
        "payment", "method", "edit", name,
        "--setting", f"{secret}=replaced-credential",
        "--setting", f"{optional[0]}=an-option",
    )  # fmt: skip
    assert "replaced-credential" not in output and f"{secret}=***" in output
    assert f"{optional[0]}=an-option" in output
    output = cli.ok("payment", "method", "edit", name, "--unset-setting", optional[0])
    assert optional[0] not in output
    refused = cli.refused("payment", "method", "edit", name, "--unset-setting", required_key)
    assert "ecpay needs the settings" in refused and required_key in refused
    assert "has no such setting" in cli.refused(
        "payment", "method", "edit", name, "--unset-setting", "nothing"
    )
    kept = method_documents(cli)[name]["settings"]
    assert set(kept) == set(settings) and kept[required_key] in (settings[required_key], "***")


async def test_a_disabled_method_takes_no_payments_until_enabled(cli, shop, db):
    customer_id, _ = await shop.customer()
    name = unique_name("bank")
    add_manual(cli, name, "--currency", "TWD")
    assert "is disabled" in cli.ok("payment", "method", "disable", name)
    assert method_row(cli, name)[8] == "no"
    assert method_documents(cli)[name]["enabled"] is False
    with pytest.raises(Refusal) as refused:
        await open_one(db, customer_id, name, "100")
    assert refused.value.kind is METHOD_DISABLED
    method_id = method_documents(cli)[name]["id"]
    assert "is enabled" in cli.ok("payment", "method", "enable", str(method_id))
    assert method_row(cli, name)[8] == "yes"
    assert await open_one(db, customer_id, name, "100") > 0


@pytest.mark.parametrize("ref", ["99999999999999999999", "²"])
def test_a_reference_no_method_has_is_refused_cleanly(cli, ref):
    assert "no payment method" in cli.refused("payment", "method", "enable", ref)


# ---- payments


async def _customer_with_payments(cli, shop, db):
    """A customer, a manual method with a fee and a bonus, and three pending payments of it."""
    customer_id, _ = await shop.customer()
    name = unique_name("bank")
    add_manual(
        cli, name, "--currency", "TWD", "--fee-percent", "3", "--bonus-percent", "10",
        "--bonus-from", "500", "--min", "100",
    )  # fmt: skip
    reference = unique_name("transfer")
    ids = [
        await open_one(db, customer_id, name, "1000", reference),
        await open_one(db, customer_id, name, "200"),
        await open_one(db, customer_id, name, "300"),
    ]
    return customer_id, name, reference, ids


async def test_payments_are_listed_newest_first_with_amounts_as_decimals(cli, shop, db):
    customer_id, method, reference, ids = await _customer_with_payments(cli, shop, db)
    documents = payment_documents(cli, "--customer", str(customer_id))
    assert [document["id"] for document in documents] == ids[::-1]
    customer = documents[0]["customer"]
    assert documents[-1] == {
        "id": ids[0],
        "customer": customer,
        "method": method,
        "gateway_id": reference,
        "amount": "1000.00",
        "currency": "TWD",
        "credited": "970.00",
        "status": "pending",
    }
    assert documents[0]["gateway_id"] is None
    limited = payment_documents(cli, "--customer", customer, "--limit", "2")
    assert [document["id"] for document in limited] == ids[:0:-1]
    rows = table_rows(cli.ok("payment", "list", "--customer", customer))
    assert [row[0] for row in rows] == [str(id_) for id_ in ids[::-1]]
    assert rows[-1][:7] == [
        str(ids[0]),
        customer,
        method,
        "1000.00 TWD",
        "970.00",
        "97.00",
        "pending",
    ]
    assert "unknown status 'settled'" in cli.refused("payment", "list", "--status", "settled")
    assert "no customer" in cli.refused("payment", "list", "--customer", unique_name("nobody"))


async def test_approve_credits_once_and_reject_fails_a_payment(cli, shop, db):
    customer_id, _, _, (first, second, third) = await _customer_with_payments(cli, shop, db)
    output = cli.ok("payment", "approve", str(first))
    assert output.startswith(f"payment {first} is paid: credited 970.00 ")
    assert "and a bonus of 97.00" in output
    refused = cli.refused("payment", "approve", str(first))
    assert f"payment {first} is paid" in refused and "can be approved" in refused
    async with db.read() as conn:
        assert await balance_of(conn, customer_id) == to_micros(parse("1067"))

    rejected = cli.ok("payment", "reject", str(second), "--reason", "no such transfer")
    assert rejected == f"payment {second} is failed: rejected: no such transfer\n"
    assert "can be rejected" in cli.refused("payment", "reject", str(second), "--reason", "again")
    assert "can be approved" in cli.refused("payment", "approve", str(second))
    assert "say why" in cli.refused("payment", "reject", str(third), "--reason", " ")
    assert "no payment 99999999" in cli.refused("payment", "approve", "99999999")

    statuses = {
        document["id"]: document["status"]
        for document in payment_documents(cli, "--customer", str(customer_id))
    }
    assert statuses == {first: "paid", second: "failed", third: "pending"}
    paid = payment_documents(cli, "--customer", str(customer_id), "--status", "PAID")
    assert [document["id"] for document in paid] == [first]
    async with db.read() as conn:
        assert await balance_of(conn, customer_id) == to_micros(parse("1067"))
    assert cli.ok("audit").startswith("books are right")


async def test_show_gives_the_payment_its_terms_and_its_notices(cli, shop, db):
    customer_id, method, reference, (first, second, _) = await _customer_with_payments(
        cli, shop, db
    )
    async with db.write() as conn:
        await record_notice(
            conn, first, verified=False, outcome="not verified: bad signature", body="{}"
        )
        await record_notice(conn, first, verified=True, outcome="payment details noted", body="{}")
        account = Notice(reference, INFO, details={"bank": "812", "account": "0001234"})
        await apply_notice(
            conn, await payment_by_id(conn, first), account, merchant=None, live=False
        )
    cli.ok("payment", "reject", str(second), "--reason", "wrong account")

    fields, notices = cli.ok("payment", "show", str(first)).split("\nnotices:\n")
    shown = {line[:12].strip(): line[12:] for line in fields.splitlines()}
    assert shown["payment"] == str(first) and shown["status"] == "pending"
    assert shown["customer"].endswith(f"(id {customer_id})")
    assert shown["method"].startswith(f"{method} (id ")
    assert shown["gateway id"] == reference
    assert (shown["amount"], shown["fee"]) == ("1000.00 TWD", "30.00 TWD")
    assert shown["credited"].startswith("970.00 ") and shown["bonus"].startswith("97.00 ")
    assert shown["terms"] == "rate 1, fee 3%, bonus 10% from 500.00 TWD"
    assert (shown["note"], shown["settled"]) == ("-", "-")
    assert fields.splitlines()[-3:] == ["details", "  account: 0001234", "  bank: 812"]
    assert [row[1:] for row in table_rows(notices)] == [
        ["no", "not verified: bad signature"],
        ["yes", "payment details noted"],
    ]
    rejected = cli.ok("payment", "show", str(second))
    assert "rejected: wrong account" in rejected and "notices:\nnone" in rejected
    assert "no payment" in cli.refused("payment", "show", "99999999")
