"""Operator pages: the payment methods, adding one and changing it.

The rules are the domain's (payments.methods.check_method); the page reads the fields and
the gateway's settings, one field per setting the gateway knows. A secret setting is never
shown again: left empty, the stored value stays.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.responses import Response

from smmpanel.admin.audit import note
from smmpanel.errors import N_, Refusal, RefusalKind, Term, refusal
from smmpanel.money import render_rate, to_micros
from smmpanel.pagekit import forms, i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.pagekit.pages import OperatorVisit, Visit
from smmpanel.payments.methods import (
    MISSING_SETTINGS,
    NO_SUCH_METHOD,
    Method,
    add_method,
    edit_method,
    is_credential,
    list_methods,
    method_by_id,
    settings_known,
)
from smmpanel.payments.models import GATEWAYS

router = APIRouter()
METHODS = "/admin/payment-methods"
TEXT_FIELDS = ("name", "name_zh", "instructions", "instructions_zh")
AMOUNT_LABELS = {
    "rate": N_("Rate"),
    "min_amount": N_("Minimum amount"),
    "max_amount": N_("Maximum amount"),
    "fee_percent": N_("Fee percent"),
    "fee_fixed": N_("Fixed fee"),
    "bonus_percent": N_("Bonus percent"),
    "bonus_from": N_("Bonus from"),
}
# Left empty, these are zero: no fee, no bonus.
ZERO_WHEN_EMPTY = frozenset({"fee_percent", "fee_fixed", "bonus_percent", "bonus_from"})
GATEWAY_LABELS = {
    "manual": N_("Manual: the operator approves each payment"),
    "ecpay": N_("ECPay"),
    "stripe": N_("Stripe"),
    "cryptomus": N_("Cryptomus"),
}

CHOOSE_GATEWAY = refusal("form_choose_gateway", "Choose one of the gateways.")
# The domain's refusals as this page words them: its own name the command line's options.
PAGE_WORDING: dict[RefusalKind, Term] = {
    MISSING_SETTINGS: N_("%(gateway)s needs these settings: %(names)s."),
}


def setting_field(gateway: str, setting: str) -> str:
    """A setting's field: named after its gateway too, as the new method's form has them all."""
    return f"{gateway}.{setting}"


@dataclass(frozen=True)
class SettingField:
    name: str
    field: str
    required: bool
    secret: bool
    stored: bool  # a value is stored (a secret one is never shown)


@dataclass(frozen=True)
class GatewayChoice:
    name: str
    label: str
    settings: list[SettingField]


def gateway_choice(gateway: str, stored: Mapping[str, str]) -> GatewayChoice:
    required, optional = settings_known(gateway)
    settings = [
        SettingField(
            name=name,
            field=setting_field(gateway, name),
            required=name in required,
            secret=is_credential(name),
            stored=bool(stored.get(name)),
        )
        for name in required + optional
    ]
    return GatewayChoice(gateway, _(GATEWAY_LABELS[gateway]), settings)


# ---- reading the form


def _amount(form: FormData, name: str) -> int:
    typed = forms.text(form, name)
    if not typed and name in ZERO_WHEN_EMPTY:
        return 0
    return to_micros(forms.typed_amount(typed, _(AMOUNT_LABELS[name])))


def _settings(form: FormData, gateway: str, stored: Mapping[str, str]) -> dict[str, str]:
    """The gateway's settings as typed; an empty secret keeps its stored value."""
    chosen = {}
    required, optional = settings_known(gateway)
    for name in required + optional:
        typed = forms.text(form, setting_field(gateway, name))
        if not typed and is_credential(name):
            typed = stored.get(name, "")
        if typed:
            chosen[name] = typed
    return chosen


def method_values(form: FormData, gateway: str, stored: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {name: forms.text(form, name) for name in TEXT_FIELDS}
    values["currency"] = forms.text(form, "currency").upper()
    values |= {name: _amount(form, name) for name in AMOUNT_LABELS}
    values["settings"] = _settings(form, gateway, stored)
    return values


def typed_again(form: FormData) -> dict[str, str]:
    """What was typed, to show the form again, but no secret."""
    return {
        name: value
        for name, value in forms.typed_values(form).items()
        if not _is_secret_field(name)
    }


def _is_secret_field(name: str) -> bool:
    _gateway, dot, setting = name.partition(".")
    return bool(dot) and is_credential(setting)


def typed_of(method: Method) -> dict[str, str]:
    """The form's fields as the method has them."""
    terms = method.terms
    amounts = {
        "rate": terms.rate,
        "min_amount": method.min_amount,
        "max_amount": method.max_amount,
        "fee_percent": terms.fee_percent,
        "fee_fixed": terms.fee_fixed,
        "bonus_percent": terms.bonus_percent,
        "bonus_from": terms.bonus_from,
    }
    typed = {name: getattr(method, name) for name in TEXT_FIELDS}
    typed |= {name: render_rate(value) for name, value in amounts.items()}
    typed |= {"currency": terms.currency, "enabled": "1" if method.enabled else ""}
    for name, value in method.settings.items():
        if not is_credential(name):
            typed[setting_field(method.gateway, name)] = value
    return typed


def explain(refused: Refusal) -> str:
    return i18n.explain(refused, PAGE_WORDING.get(refused.kind))


# ---- the list


@router.get(METHODS)
async def method_list(current: OperatorVisit) -> Response:
    async with current.db.read() as conn:
        methods = await list_methods(conn)
    return current.render(
        "admin/payment_methods.html", methods=methods, gateway_labels=GATEWAY_LABELS
    )


# ---- a new method


NEW_TYPED = {"gateway": "manual", "enabled": "1", "rate": "1"}


def _new_form(
    current: Visit, status_code: int = 200, error: str | None = None, typed: dict | None = None
) -> Response:
    return current.render(
        "admin/payment_method.html",
        status_code,
        method=None,
        gateways=[gateway_choice(name, {}) for name in GATEWAYS],
        typed=typed if typed is not None else NEW_TYPED,
        error=error,
    )


@router.get(METHODS + "/new")
async def new_method_page(current: OperatorVisit) -> Response:
    return _new_form(current)


@router.post(METHODS + "/new")
async def add_new_method(current: OperatorVisit) -> Response:
    form = await current.form()
    gateway = forms.text(form, "gateway")
    try:
        if gateway not in GATEWAYS:
            raise CHOOSE_GATEWAY()
        values = method_values(form, gateway, {})
        async with current.db.write() as conn:
            method_id = await add_method(conn, gateway=gateway, **values)
            if not forms.flag(form, "enabled"):
                await edit_method(conn, method_id, enabled=False)
            # Names only: the settings hold the gateway's secrets.
            detail = f"{gateway}: {values['name']}"
            await note(conn, current, "payment_method.add", f"payment_method:{method_id}", detail)
    except Refusal as refused:
        return _new_form(current, 400, explain(refused), typed_again(form))
    return current.redirect(METHODS, _("Payment method %(name)s added.") % values)


# ---- one method


async def _method_or_none(current: Visit, method_id: int) -> Method | None:
    async with current.db.read() as conn:
        try:
            return await method_by_id(conn, method_id)
        except Refusal as refused:
            if refused.kind is NO_SUCH_METHOD:
                return None
            raise


def _edit_form(
    current: Visit,
    method: Method,
    status_code: int = 200,
    error: str | None = None,
    typed: dict | None = None,
) -> Response:
    return current.render(
        "admin/payment_method.html",
        status_code,
        method=method,
        gateways=[gateway_choice(method.gateway, method.settings)],
        typed=typed if typed is not None else typed_of(method),
        error=error,
    )


@router.get(METHODS + "/{method_id:id}")
async def method_page(method_id: int, current: OperatorVisit) -> Response:
    method = await _method_or_none(current, method_id)
    if method is None:
        return forms.not_found(current)
    return _edit_form(current, method)


@router.post(METHODS + "/{method_id:id}")
async def change_method(method_id: int, current: OperatorVisit) -> Response:
    form = await current.form()
    method = await _method_or_none(current, method_id)
    if method is None:
        return forms.not_found(current)
    try:
        values = method_values(form, method.gateway, method.settings)
        async with current.db.write() as conn:
            await edit_method(conn, method_id, **values, enabled=forms.flag(form, "enabled"))
            detail = f"{values['name']}, enabled={forms.flag(form, 'enabled')}"
            await note(conn, current, "payment_method.edit", f"payment_method:{method_id}", detail)
    except Refusal as refused:
        return _edit_form(current, method, 400, explain(refused), typed_again(form))
    return current.redirect(METHODS, _("Payment method %(name)s saved.") % values)
