"""payment: the methods customers pay with, and the payments they open."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smmpanel.cli.common import (
    bounded_option,
    fail,
    id_argument,
    in_transaction,
    parse_amount,
    read_only,
)
from smmpanel.cli.tables import NOTHING, moment, print_table, printable
from smmpanel.money import render_balance, render_rate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from smmpanel.db.base import AnyRow
    from smmpanel.payments.methods import Method, Terms
    from smmpanel.payments.service import Payment

payment_app = typer.Typer(
    help="Payment methods, and the payments customers open: list, show, approve, reject."
)
method_app = typer.Typer(help="Add, list, edit, disable and enable payment methods.")
payment_app.add_typer(method_app, name="method", no_args_is_help=True)

DEFAULT_LIMIT = 50
MASK = "***"

# The command line's option for each amount column of a method.
AMOUNT_OPTIONS = {
    "rate": "--rate",
    "min_amount": "--min",
    "max_amount": "--max",
    "fee_percent": "--fee-percent",
    "fee_fixed": "--fee-fixed",
    "bonus_percent": "--bonus-percent",
    "bonus_from": "--bonus-from",
}

RATE_HELP = (
    "How much of the panel's currency one unit of this currency buys, e.g. 0.031 for TWD "
    "on a USD panel."
)
MIN_HELP = "The smallest payment, in the method's currency."
MAX_HELP = "The largest payment, in the method's currency."
FEE_PERCENT_HELP = "Percent of each payment kept as a fee, e.g. 2.9."
FEE_FIXED_HELP = "A fixed fee per payment, in the method's currency."
BONUS_PERCENT_HELP = "Percent added on top of what a payment credits, e.g. 5."
BONUS_FROM_HELP = "The smallest payment (in the method's currency) that earns the bonus."
SETTING_HELP = (
    "A gateway setting as KEY=VALUE; repeat for each (a refusal names the ones missing). "
    "Credentials (hash_key, hash_iv, webhook_secret...) are never printed."
)
NAME_ZH_HELP = "The name shown on the Chinese pages."
INSTRUCTIONS_HELP = "What customers read before paying, e.g. the bank account for a transfer."
INSTRUCTIONS_ZH_HELP = "The instructions shown on the Chinese pages."


def _method_argument() -> Any:
    return typer.Argument(..., help="Id or name (see `smmpanel payment method list`).")


# ---- settings, shown without their secrets


def masked(settings: Mapping[str, str]) -> dict[str, str]:
    """Settings fit to print: a credential's value is replaced by ***."""
    from smmpanel.payments.methods import is_credential

    return {key: MASK if is_credential(key) else settings[key] for key in sorted(settings)}


def settings_text(settings: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in masked(settings).items()) or "none"


def _settings_given(pairs: list[str] | None) -> dict[str, str]:
    """The --setting KEY=VALUE options as a dict; a malformed one is refused without echoing
    it, since it may be a credential typed without its key."""
    settings: dict[str, str] = {}
    for pair in pairs or ():
        key, equals, value = pair.partition("=")
        key = key.strip()
        if not equals or not key:
            fail("--setting: write each as KEY=VALUE (one has no key or no '=')")
        if key in settings:
            fail(f"--setting {key} is given twice")
        settings[key] = value.strip()
    return settings


# ---- methods


def _amounts(given: Mapping[str, str | None]) -> dict[str, int]:
    """The amounts given, by column, in millionths (percentages in millionths of a percent)."""
    return {
        column: parse_amount(text, AMOUNT_OPTIONS[column])
        for column, text in given.items()
        if text is not None
    }


def _texts(**given: str | None) -> dict[str, str]:
    return {column: text for column, text in given.items() if text is not None}


async def _method(conn: AsyncConnection, ref: str) -> Method:
    from smmpanel.payments.methods import find_method

    return await find_method(conn, ref)


@method_app.command("add")
def add_method_command(
    name: str = typer.Argument(..., help="A unique name customers see, e.g. 'Bank transfer'."),
    gateway: str = typer.Option(
        ..., help="manual (an operator approves each payment), ecpay, stripe or cryptomus."
    ),
    currency: str = typer.Option(..., help="The ISO 4217 code customers pay in, e.g. TWD."),
    rate: str = typer.Option("1", help=RATE_HELP),
    min_amount: str = typer.Option("1", "--min", help=MIN_HELP),
    max_amount: str = typer.Option("1000000", "--max", help=MAX_HELP),
    fee_percent: str = typer.Option("0", help=FEE_PERCENT_HELP),
    fee_fixed: str = typer.Option("0", help=FEE_FIXED_HELP),
    bonus_percent: str = typer.Option("0", help=BONUS_PERCENT_HELP),
    bonus_from: str = typer.Option(None, help=BONUS_FROM_HELP + " Left out: every payment."),
    setting: Annotated[list[str] | None, typer.Option("--setting", help=SETTING_HELP)] = None,
    name_zh: str = typer.Option("", help=NAME_ZH_HELP),
    instructions: str = typer.Option("", help=INSTRUCTIONS_HELP),
    instructions_zh: str = typer.Option("", help=INSTRUCTIONS_ZH_HELP),
) -> None:
    """Add a payment method customers can pick on their funds page."""
    from smmpanel.payments.methods import add_method, method_by_id

    values: dict[str, Any] = {
        "name": name.strip(),
        "gateway": gateway.strip().lower(),
        "currency": currency.strip().upper(),
        **_amounts(
            {
                "rate": rate,
                "min_amount": min_amount,
                "max_amount": max_amount,
                "fee_percent": fee_percent,
                "fee_fixed": fee_fixed,
                "bonus_percent": bonus_percent,
                "bonus_from": "0" if bonus_from is None else bonus_from,
            }
        ),
        **_texts(name_zh=name_zh, instructions=instructions, instructions_zh=instructions_zh),
        "settings": _settings_given(setting),
    }
    if bonus_from is not None and not values["bonus_percent"]:
        fail("--bonus-from goes with --bonus-percent: give the bonus too")

    async def use_case(conn: AsyncConnection) -> Method:
        return await method_by_id(conn, await add_method(conn, **values))

    method = in_transaction(use_case)
    typer.echo(f"added payment method {method.id} ({method.name}): {_summary(method)}")


@method_app.command("edit")
def edit_method_command(
    ref: str = _method_argument(),
    name: str = typer.Option(None, help="A new name."),
    currency: str = typer.Option(None, help="The ISO 4217 code customers pay in."),
    rate: str = typer.Option(None, help=RATE_HELP),
    min_amount: str = typer.Option(None, "--min", help=MIN_HELP),
    max_amount: str = typer.Option(None, "--max", help=MAX_HELP),
    fee_percent: str = typer.Option(None, help=FEE_PERCENT_HELP),
    fee_fixed: str = typer.Option(None, help=FEE_FIXED_HELP),
    bonus_percent: str = typer.Option(None, help=BONUS_PERCENT_HELP + " 0: no bonus."),
    bonus_from: str = typer.Option(None, help=BONUS_FROM_HELP),
    setting: Annotated[
        list[str] | None,
        typer.Option("--setting", help="Set one gateway setting as KEY=VALUE (repeatable)."),
    ] = None,
    unset_setting: Annotated[
        list[str] | None,
        typer.Option("--unset-setting", help="Remove one gateway setting by its KEY (repeatable)."),
    ] = None,
    name_zh: str = typer.Option(None, help=NAME_ZH_HELP),
    instructions: str = typer.Option(None, help=INSTRUCTIONS_HELP),
    instructions_zh: str = typer.Option(None, help=INSTRUCTIONS_ZH_HELP),
) -> None:
    """Change what is given of a method; payments opened before keep the terms they had. Its
    gateway stays: add another method for another gateway."""
    from smmpanel.payments.methods import edit_method, method_by_id

    changes: dict[str, Any] = {
        **_texts(
            name=name.strip() if name is not None else None,
            name_zh=name_zh,
            instructions=instructions,
            instructions_zh=instructions_zh,
        ),
        **_amounts(
            {
                "rate": rate,
                "min_amount": min_amount,
                "max_amount": max_amount,
                "fee_percent": fee_percent,
                "fee_fixed": fee_fixed,
                "bonus_percent": bonus_percent,
                "bonus_from": bonus_from,
            }
        ),
    }
    if currency is not None:
        changes["currency"] = currency.strip().upper()
    new_settings = _settings_given(setting)
    removed = [key.strip() for key in unset_setting or ()]
    both = sorted(set(new_settings) & set(removed))
    if both:
        fail(f"{', '.join(both)}: given to both --setting and --unset-setting")
    if not changes and not new_settings and not removed:
        fail("nothing to change: give an option to change (see --help)")

    async def use_case(conn: AsyncConnection) -> Method:
        method = await _method(conn, ref)
        if new_settings or removed:
            changes["settings"] = _changed_settings(method, new_settings, removed)
        await edit_method(conn, method.id, **changes)
        return await method_by_id(conn, method.id)

    method = in_transaction(use_case)
    typer.echo(f"payment method {method.id} ({method.name}) changed: {_summary(method)}")


def _changed_settings(method: Method, new: Mapping[str, str], removed: list[str]) -> dict[str, str]:
    settings = dict(method.settings) | dict(new)
    for key in removed:
        if key not in settings:
            fail(f"--unset-setting {key}: {method.name} has no such setting")
        del settings[key]
    return settings


@method_app.command("disable")
def disable_method_command(ref: str = _method_argument()) -> None:
    """Stop offering a method; payments opened with it go on as before."""
    method = _set_enabled(ref, enabled=False)
    typer.echo(
        f"payment method {method.id} ({method.name}) is disabled: customers can no longer "
        "pick it; its open payments go on"
    )


@method_app.command("enable")
def enable_method_command(ref: str = _method_argument()) -> None:
    """Offer a disabled method again."""
    method = _set_enabled(ref, enabled=True)
    typer.echo(f"payment method {method.id} ({method.name}) is enabled: customers can pick it")


def _set_enabled(ref: str, enabled: bool) -> Method:
    from smmpanel.payments.methods import edit_method, method_by_id

    async def use_case(conn: AsyncConnection) -> Method:
        method = await _method(conn, ref)
        await edit_method(conn, method.id, enabled=enabled)
        return await method_by_id(conn, method.id)

    return in_transaction(use_case)


@method_app.command("list")
def list_methods_command(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Every payment method, enabled or not; credentials are masked."""
    from smmpanel.payments.methods import list_methods

    methods = read_only(list_methods)
    if as_json:
        for method in methods:
            typer.echo(json.dumps(_method_document(method)))
        return
    print_table(
        (
            "id",
            "name",
            "gateway",
            "currency",
            "rate",
            "min–max",
            "fee",
            "bonus",
            "enabled",
            "settings",
        ),
        [
            (
                method.id,
                method.name,
                method.gateway,
                method.terms.currency,
                render_rate(method.terms.rate),
                _limits_text(method),
                _fee_text(method.terms),
                _bonus_text(method.terms),
                "yes" if method.enabled else "no",
                settings_text(method.settings),
            )
            for method in methods
        ],
        empty="no payment methods yet: add one with `smmpanel payment method add`",
    )


def _method_document(method: Method) -> dict[str, Any]:
    terms = method.terms
    return {
        "id": method.id,
        "name": method.name,
        "name_zh": method.name_zh,
        "gateway": method.gateway,
        "currency": terms.currency,
        "rate": render_rate(terms.rate),
        "min": render_balance(method.min_amount),
        "max": render_balance(method.max_amount),
        "fee_percent": render_rate(terms.fee_percent),
        "fee_fixed": render_balance(terms.fee_fixed),
        "bonus_percent": render_rate(terms.bonus_percent),
        "bonus_from": render_balance(terms.bonus_from),
        "enabled": method.enabled,
        "settings": masked(method.settings),
        "instructions": method.instructions,
        "instructions_zh": method.instructions_zh,
    }


def _summary(method: Method) -> str:
    terms = method.terms
    state = "" if method.enabled else " (disabled)"
    return (
        f"{method.gateway}{state}, {terms.currency} at rate {render_rate(terms.rate)}, "
        f"{_limits_text(method)} {terms.currency}, fee {_fee_text(terms)}, "
        f"bonus {_bonus_text(terms)}; settings: {settings_text(method.settings)}"
    )


def _limits_text(method: Method) -> str:
    return f"{render_balance(method.min_amount)}–{render_balance(method.max_amount)}"


def _fee_text(terms: Terms) -> str:
    parts = []
    if terms.fee_percent:
        parts.append(f"{render_rate(terms.fee_percent)}%")
    if terms.fee_fixed:
        parts.append(f"{render_balance(terms.fee_fixed)} {terms.currency}")
    return " + ".join(parts) or "none"


def _bonus_text(terms: Terms) -> str:
    if not terms.bonus_percent:
        return "none"
    text = f"{render_rate(terms.bonus_percent)}%"
    if terms.bonus_from:
        text += f" from {render_balance(terms.bonus_from)} {terms.currency}"
    return text


# ---- payments


@payment_app.command("list")
def list_payments_command(
    status: str = typer.Option(
        None, help="Only payments in this status: pending, paid, failed, expired or review."
    ),
    customer: str = typer.Option(None, help="Only this customer's payments (id or name)."),
    limit: int = bounded_option(DEFAULT_LIMIT, "Show at most this many, newest first.", low=1),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Payments, newest first."""
    from smmpanel.accounts.service import find_customer
    from smmpanel.payments.service import payment_rows

    wanted = _status(status) if status is not None else None

    async def query(conn: AsyncConnection) -> list[AnyRow]:
        customer_id = await find_customer(conn, customer) if customer else None
        return await payment_rows(conn, status=wanted, customer_id=customer_id, limit=limit)

    rows = read_only(query)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(_payment_document(row)))
        return
    print_table(
        (
            "id",
            "customer",
            "method",
            "amount",
            "credited",
            "bonus",
            "status",
            "opened",
            "gateway id",
        ),
        [
            (
                row.id,
                row.customer,
                row.method,
                f"{render_balance(row.amount)} {row.currency}",
                render_balance(row.credited),
                render_balance(row.bonus),
                row.status,
                moment(row.created_at),
                row.gateway_id,
            )
            for row in rows
        ],
        empty="no payments match",
    )


def _status(typed: str) -> str:
    from smmpanel.payments.models import PAYMENT_STATUSES

    wanted = typed.strip().lower()
    if wanted not in PAYMENT_STATUSES:
        fail(f"--status: unknown status {typed!r}; use one of: {', '.join(PAYMENT_STATUSES)}")
    return wanted


def _payment_document(row: AnyRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "customer": row.customer,
        "method": row.method,
        "gateway_id": row.gateway_id,
        "amount": render_balance(row.amount),
        "currency": row.currency,
        "credited": render_balance(row.credited),
        "status": row.status,
    }


@payment_app.command("show")
def show_payment_command(payment_id: int = id_argument("The payment's id.")) -> None:
    """One payment in full: its money, the terms it was opened on, and its gateway's notices."""
    from smmpanel.accounts.service import customer_name
    from smmpanel.panel.service import get_settings
    from smmpanel.payments.methods import method_by_id
    from smmpanel.payments.service import notices_of, payment_by_id

    async def query(conn: AsyncConnection) -> tuple[Payment, str, Method, str, list[AnyRow]]:
        payment = await payment_by_id(conn, payment_id)
        return (
            payment,
            await customer_name(conn, payment.customer_id),
            await method_by_id(conn, payment.method_id),
            (await get_settings(conn)).currency,
            await notices_of(conn, payment_id),
        )

    payment, customer, method, panel_currency, notices = read_only(query)
    for label, value in _payment_fields(payment, customer, method, panel_currency):
        typer.echo(f"{label:<12}{printable(value)}")
    typer.echo(f"{'details':<12}{'' if payment.details else NOTHING}".rstrip())
    for key in sorted(payment.details):
        typer.echo(f"  {printable(key)}: {printable(payment.details[key])}")
    typer.echo("\nnotices:")
    print_table(
        ("received", "verified", "outcome"),
        [
            (moment(notice.received_at), "yes" if notice.verified else "no", notice.outcome)
            for notice in notices
        ],
        empty="none",
    )


def _payment_fields(
    payment: Payment, customer: str, method: Method, panel_currency: str
) -> list[tuple[str, object]]:
    terms = payment.terms
    return [
        ("payment", payment.id),
        ("status", payment.status),
        ("customer", f"{customer} (id {payment.customer_id})"),
        ("method", f"{method.name} (id {method.id}, {method.gateway})"),
        ("gateway id", payment.gateway_id),
        ("amount", f"{render_balance(payment.amount)} {payment.currency}"),
        ("fee", f"{render_balance(payment.fee)} {payment.currency}"),
        ("credited", f"{render_balance(payment.credited)} {panel_currency}"),
        ("bonus", f"{render_balance(payment.bonus)} {panel_currency}"),
        (
            "terms",
            f"rate {render_rate(terms.rate)}, fee {_fee_text(terms)}, bonus {_bonus_text(terms)}",
        ),
        ("note", payment.note or None),
        ("opened", moment(payment.created_at)),
        ("expires", moment(payment.expires_at)),
        ("settled", moment(payment.settled_at)),
    ]


@payment_app.command("approve")
def approve_command(payment_id: int = id_argument("The payment's id.")) -> None:
    """Credit a pending, expired or review payment as it was asked, once."""
    from smmpanel.accounts.service import customer_name
    from smmpanel.panel.service import get_settings
    from smmpanel.payments.service import approve

    async def use_case(conn: AsyncConnection) -> tuple[Payment, str, str]:
        payment = await approve(conn, payment_id)
        name = await customer_name(conn, payment.customer_id)
        return payment, name, (await get_settings(conn)).currency

    payment, customer, currency = in_transaction(use_case)
    bonus = f" and a bonus of {render_balance(payment.bonus)} {currency}" if payment.bonus else ""
    typer.echo(
        f"payment {payment.id} is {payment.status}: credited "
        f"{render_balance(payment.credited)} {currency}{bonus} to {customer}"
    )


@payment_app.command("reject")
def reject_command(
    payment_id: int = id_argument("The payment's id."),
    reason: str = typer.Option(..., "--reason", help="Why, kept as the payment's note."),
) -> None:
    """Refuse a pending or review payment: it fails and nothing is credited."""
    from smmpanel.payments.service import reject

    payment = in_transaction(lambda conn: reject(conn, payment_id, reason))
    typer.echo(f"payment {payment.id} is {payment.status}: {printable(payment.note)}")
