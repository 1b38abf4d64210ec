"""The price rule: how an upstream's rate per 1000 becomes ours."""

import json
from dataclasses import asdict, dataclass
from decimal import ROUND_CEILING, Decimal

from smmpanel.errors import Refusal, refusal
from smmpanel.money import LARGEST_MICROS, MICROS, parse

SMALLEST_RATE = Decimal("0.000001")
MAX_DECIMALS = 6

DECIMALS_NOT_WHOLE = refusal(
    "price_rule_decimals_not_whole", "the rounding must be a whole number of decimals, 0 to 6"
)
DECIMALS_OUT_OF_RANGE = refusal(
    "price_rule_decimals_out_of_range", "round to 0 to %(max)s decimals, not %(decimals)s"
)
RULE_AMOUNT_UNREADABLE = refusal("price_rule_amount_unreadable", "price rule %(name)s: %(problem)s")
RULE_AMOUNT_NEGATIVE = refusal(
    "price_rule_amount_negative",
    "price rule %(name)s cannot be negative (%(value)s); use 0 or more",
)
SAVED_RULE_UNREADABLE = refusal(
    "saved_price_rule_unreadable",
    "the saved price rule is unreadable; import again with --markup-percent,"
    " --markup-fixed, --decimals and --floor to save a new one",
)


@dataclass(frozen=True)
class PriceRule:
    """rate = upstream × (1 + percent/100) + fixed, rounded up to `decimals`, at least `floor`."""

    percent: Decimal = Decimal(0)
    fixed: Decimal = Decimal(0)
    decimals: int = MAX_DECIMALS
    floor: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("percent", "fixed", "floor"):
            object.__setattr__(self, name, _amount(name, getattr(self, name)))
        if isinstance(self.decimals, bool) or not isinstance(self.decimals, int):
            raise DECIMALS_NOT_WHOLE()
        if not 0 <= self.decimals <= MAX_DECIMALS:
            raise DECIMALS_OUT_OF_RANGE(max=MAX_DECIMALS, decimals=self.decimals)

    def price(self, upstream_rate: Decimal) -> Decimal:
        """Our rate: never below cost through rounding, never below the floor, never zero."""
        marked_up = upstream_rate * (1 + self.percent / 100) + self.fixed
        step = Decimal(1).scaleb(-self.decimals)
        return max(marked_up.quantize(step, rounding=ROUND_CEILING), self.floor, SMALLEST_RATE)

    def price_micros(self, upstream_rate: Decimal) -> int:
        micros = int(self.price(upstream_rate) * MICROS)
        if micros > LARGEST_MICROS:
            raise ValueError("the rate is too large to sell")
        return micros

    def describe(self) -> str:
        parts = [f"+{_plain(self.percent)}%", f"+{_plain(self.fixed)}"]
        parts.append(f"rounded up to {self.decimals} decimals")
        if self.floor:
            parts.append(f"at least {_plain(self.floor)}")
        return ", ".join(parts)

    def to_json(self) -> str:
        values = {k: v if isinstance(v, int) else _plain(v) for k, v in asdict(self).items()}
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> "PriceRule":
        try:
            values = json.loads(text or "{}")
            return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError, AttributeError, Refusal):
            raise SAVED_RULE_UNREADABLE() from None


def cost_micros(upstream_rate: Decimal) -> int:
    """The upstream's rate in millionths, rounded up: our cost is never understated."""
    return int((upstream_rate * MICROS).to_integral_value(rounding=ROUND_CEILING))


def _amount(name: str, value: object) -> Decimal:
    try:
        amount = parse(str(value))
    except Refusal as problem:
        raise RULE_AMOUNT_UNREADABLE(name=name, problem=problem) from None
    if amount < 0:
        # A negative markup sells below cost; most often it is a typo.
        raise RULE_AMOUNT_NEGATIVE(name=name, value=value)
    return amount


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
