"""Plain helpers for the command-line tests: run `smmpanel`, read what it printed."""

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


class Cli:
    """The installed `smmpanel` command, run as a new process on one database."""

    def __init__(self, database_url: str, cwd: Path) -> None:
        self.database_url = database_url
        self.cwd = cwd

    def run(self, *args: str) -> Outcome:
        environment = {
            **os.environ,
            "SMMPANEL_DATABASE_URL": self.database_url,
            "SMMPANEL_LOG_LEVEL": "WARNING",
        }
        done = subprocess.run(
            [sys.executable, "-m", "smmpanel", *map(str, args)],
            env=environment,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: object) -> str:
        """Its output, after checking that it succeeded."""
        outcome = self.run(*args)
        assert outcome.code == 0, f"smmpanel {args} failed: {outcome.err}"
        return outcome.out

    def refused(self, *args: object) -> str:
        """Its error message, after checking it was a clear refusal and not a crash."""
        outcome = self.run(*args)
        assert outcome.code == 1, f"smmpanel {args} gave {outcome.code}: {outcome}"
        assert "Traceback" not in outcome.err, outcome.err
        assert outcome.err.startswith("error: "), outcome.err
        return outcome.err


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
