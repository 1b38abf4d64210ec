"""Payment methods: a gateway, a currency and its rate to the panel's, limits, fee and bonus.

The customer pays `amount` in the method's currency. The fee is part of it (a percentage,
rounded up, plus a fixed part); the rest, at the method's rate, lands on the balance (rounded
down), and a bonus on top once the amount reaches `bonus_from`.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smmpanel.db.base import AnyRow, utcnow
from smmpanel.errors import N_, check_fits, refusal
from smmpanel.integers import typed_id
from smmpanel.money import MICROS, check_amount
from smmpanel.panel.rates import is_currency_code
from smmpanel.payments.gateways.registry import MODULES, gateway
from smmpanel.payments.models import GATEWAYS, payment_methods

HUNDRED_PERCENT = 100 * MICROS

UNKNOWN_GATEWAY = refusal(
    "unknown_gateway", "unknown gateway %(gateway)r: use one of manual, ecpay, stripe, cryptomus"
)
UNKNOWN_CURRENCY = refusal(
    "unknown_currency", "%(code)r is not a currency %(gateway)s takes (an ISO 4217 code like TWD)"
)
RATE_NOT_POSITIVE = refusal("rate_not_positive", "the rate must be more than 0")
LIMITS_WRONG = refusal(
    "payment_limits_wrong", "the minimum must be more than 0 and at most the maximum"
)
PERCENT_OUT_OF_RANGE = refusal(
    "percent_out_of_range", "%(label)s must be between 0 and 100 percent"
)
FEE_NEGATIVE = refusal("fee_negative", "the fixed fee must not be negative")
MISSING_SETTINGS = refusal(
    "gateway_settings_missing", "%(gateway)s needs the settings: %(names)s (--setting KEY=VALUE)"
)
UNKNOWN_SETTINGS = refusal(
    "gateway_settings_unknown", "%(gateway)s has no settings named %(names)s; it reads %(known)s"
)
METHOD_NAME_TAKEN = refusal("payment_method_taken", "a payment method named %(name)r exists")
NO_SUCH_METHOD = refusal(
    "no_such_payment_method", "no payment method %(ref)r (see: smmpanel payment method list)"
)
EMPTY_METHOD_NAME = refusal("payment_method_name_empty", "a payment method needs a name")


@dataclass(frozen=True)
class Quote:
    amount: int  # paid, in the method's currency
    fee: int  # of it, in the method's currency
    credited: int  # to the balance, in the panel's currency
    bonus: int  # on top, in the panel's currency


@dataclass(frozen=True)
class Terms:
    """How a payment in the method's currency becomes balance; a payment keeps its own copy."""

    currency: str
    rate: int  # millionths of the panel's currency per unit
    fee_percent: int = 0  # millionths of a percent
    fee_fixed: int = 0
    bonus_percent: int = 0
    bonus_from: int = 0

    def quote(self, amount: int) -> Quote:
        percent_fee = -(-amount * self.fee_percent // HUNDRED_PERCENT)  # rounded up
        fee = min(amount, percent_fee + self.fee_fixed)
        credited = (amount - fee) * self.rate // MICROS
        bonus = 0
        if self.bonus_percent and amount >= self.bonus_from:
            bonus = credited * self.bonus_percent // HUNDRED_PERCENT
        return Quote(amount, fee, credited, bonus)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Terms":
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Method:
    id: int
    name: str
    name_zh: str
    instructions: str
    instructions_zh: str
    gateway: str
    terms: Terms
    min_amount: int
    max_amount: int
    settings: Mapping[str, str]
    enabled: bool

    @classmethod
    def from_row(cls, row: AnyRow) -> "Method":
        terms = Terms(*(row._mapping[name] for name in TERM_COLUMNS))
        return cls(
            id=row.id,
            name=row.name,
            name_zh=row.name_zh,
            instructions=row.instructions,
            instructions_zh=row.instructions_zh,
            gateway=row.gateway,
            terms=terms,
            min_amount=row.min_amount,
            max_amount=row.max_amount,
            settings=json.loads(row.settings),
            enabled=bool(row.enabled),
        )

    def label(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") and self.name_zh else self.name

    def instructions_in(self, language: str) -> str:
        chinese = language.startswith("zh") and self.instructions_zh
        return self.instructions_zh if chinese else self.instructions


# A setting whose name holds one of these (or the word "iv") is a credential.
CREDENTIAL_MARKS = ("key", "secret", "hash", "password", "token")
TERM_COLUMNS = ("currency", "rate", "fee_percent", "fee_fixed", "bonus_percent", "bonus_from")
TEXT_LABELS = {
    "name": N_("name"),
    "name_zh": N_("Chinese name"),
    "instructions": N_("instructions"),
    "instructions_zh": N_("Chinese instructions"),
}
EDITABLE = (
    *TEXT_LABELS,
    *TERM_COLUMNS,
    "min_amount",
    "max_amount",
    "settings",
    "enabled",
)


def is_credential(setting: str) -> bool:
    """Whether a gateway setting holds a credential (hash_key, hash_iv, webhook_secret): its
    value is never shown back, on a page or a command line."""
    lowered = setting.lower()
    return any(mark in lowered for mark in CREDENTIAL_MARKS) or "iv" in lowered.split("_")


def settings_known(gateway_name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The settings a gateway needs and those it may read."""
    if gateway_name not in MODULES:
        return (), ()
    module = gateway(gateway_name)
    return module.REQUIRED_SETTINGS, module.OPTIONAL_SETTINGS


def check_method(values: Mapping[str, Any]) -> None:
    """Refuse a method whose values break a rule, saying which."""
    name = values["gateway"]
    if name not in GATEWAYS:
        raise UNKNOWN_GATEWAY(gateway=name)
    if not values["name"].strip():
        raise EMPTY_METHOD_NAME()
    for column, label in TEXT_LABELS.items():
        check_fits(payment_methods.c[column], values[column], label)
    _check_currency(name, values["currency"])
    if values["rate"] <= 0:
        raise RATE_NOT_POSITIVE()
    if not 0 < values["min_amount"] <= values["max_amount"]:
        raise LIMITS_WRONG()
    for column in ("rate", "min_amount", "max_amount", "fee_fixed", "bonus_from"):
        check_amount(values[column])
    for column, label in (("fee_percent", N_("the fee")), ("bonus_percent", N_("the bonus"))):
        if not 0 <= values[column] <= HUNDRED_PERCENT:
            raise PERCENT_OUT_OF_RANGE(label=label)
    if values["fee_fixed"] < 0 or values["bonus_from"] < 0:
        raise FEE_NEGATIVE()
    _check_settings(name, values["settings"])


def _check_currency(gateway_name: str, code: str) -> None:
    allowed = is_currency_code(code)
    if gateway_name in MODULES:
        allowed = gateway(gateway_name).currency_allowed(code)
    if not allowed:
        raise UNKNOWN_CURRENCY(code=code, gateway=gateway_name)


def _check_settings(gateway_name: str, settings: Mapping[str, str]) -> None:
    required, optional = settings_known(gateway_name)
    missing = [key for key in required if not settings.get(key, "").strip()]
    if missing:
        raise MISSING_SETTINGS(gateway=gateway_name, names=", ".join(missing))
    unknown = sorted(set(settings) - set(required) - set(optional))
    if unknown:
        known = ", ".join(required + optional) or "none"
        raise UNKNOWN_SETTINGS(gateway=gateway_name, names=", ".join(unknown), known=known)


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    stored = dict(values)
    stored["settings"] = json.dumps(dict(values["settings"]), sort_keys=True)
    return stored


async def add_method(conn: AsyncConnection, **values: Any) -> int:
    """A new method; `values` has every column of EDITABLE but `enabled` (texts may be left out)."""
    values = {"name_zh": "", "instructions": "", "instructions_zh": "", "settings": {}} | values
    check_method(values)
    if await _method_named(conn, values["name"]) is not None:
        raise METHOD_NAME_TAKEN(name=values["name"])
    method_id = await conn.scalar(
        insert(payment_methods)
        .values(**_stored(values), enabled=True, created_at=utcnow())
        .returning(payment_methods.c.id)
    )
    return int(method_id)


async def edit_method(conn: AsyncConnection, method_id: int, **changes: Any) -> None:
    current = await method_by_id(conn, method_id)
    values = _values_of(current) | changes
    check_method(values)
    other = await _method_named(conn, values["name"])
    if other is not None and other != method_id:
        raise METHOD_NAME_TAKEN(name=values["name"])
    await conn.execute(
        update(payment_methods).where(payment_methods.c.id == method_id).values(**_stored(values))
    )


def _values_of(method: Method) -> dict[str, Any]:
    return {
        "name": method.name,
        "name_zh": method.name_zh,
        "instructions": method.instructions,
        "instructions_zh": method.instructions_zh,
        "gateway": method.gateway,
        **asdict(method.terms),
        "min_amount": method.min_amount,
        "max_amount": method.max_amount,
        "settings": dict(method.settings),
        "enabled": method.enabled,
    }


async def _method_named(conn: AsyncConnection, name: str) -> int | None:
    return await conn.scalar(select(payment_methods.c.id).where(payment_methods.c.name == name))


async def method_by_id(conn: AsyncConnection, method_id: int) -> Method:
    row = (
        await conn.execute(select(payment_methods).where(payment_methods.c.id == method_id))
    ).first()
    if row is None:
        raise NO_SUCH_METHOD(ref=str(method_id))
    return Method.from_row(row)


async def find_method(conn: AsyncConnection, ref: str) -> Method:
    """A method by id or name, as the command line names it."""
    given_id = typed_id(ref)
    by = payment_methods.c.name == ref if given_id is None else payment_methods.c.id == given_id
    row = (await conn.execute(select(payment_methods).where(by))).first()
    if row is None:
        raise NO_SUCH_METHOD(ref=ref)
    return Method.from_row(row)


async def list_methods(conn: AsyncConnection, *, enabled_only: bool = False) -> list[Method]:
    query = select(payment_methods).order_by(payment_methods.c.id)
    if enabled_only:
        query = query.where(payment_methods.c.enabled.is_(True))
    return [Method.from_row(row) for row in await conn.execute(query)]
