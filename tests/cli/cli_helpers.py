"""Plain helpers for the command-line tests: run `smmpanel`, read what it printed."""

import re
import uuid
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

MICRO = Decimal("0.000001")


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def printed_key(output: str) -> str:
    """The key from the single `API key: ...` line."""
    lines = [line for line in output.splitlines() if line.startswith("API key: ")]
    assert len(lines) == 1, output
    return lines[0].removeprefix("API key: ")


def printed_refund(output: str) -> Decimal:
    """What `order update` or `cancel resolve` said it refunded (0 for "nothing refunded")."""
    if "nothing refunded" in output:
        return Decimal(0)
    found = re.search(r"refunded (\d+\.\d+)", output)
    assert found, output
    return Decimal(found.group(1))


def table_rows(output: str) -> list[list[str]]:
    """A printed table's rows (header left out), cells split on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines()[1:]]


def expected_charge(rate: str, units: int) -> Decimal:
    """The contract's charge: rate × units / 1000, rounded half up to 6 decimals."""
    return (Decimal(rate) * units / 1000).quantize(MICRO, rounding=ROUND_HALF_UP)


def expected_refund(charge: Decimal, remains: int, units: int) -> Decimal:
    """The contract's partial refund: charge × remains / units, rounded down to 6 decimals."""
    return (charge * remains / units).quantize(MICRO, rounding=ROUND_DOWN)
