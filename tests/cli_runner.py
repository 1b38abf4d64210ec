"""Running the installed `smmpanel` command in tests, as a new process on one database."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


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

    def run(self, *args: str, stdin: str | None = None) -> Outcome:
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
            input=stdin,
            text=True,
            timeout=120,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def checked(self, *args: object, stdin: str | None = None) -> Outcome:
        """What it printed, after checking that it succeeded."""
        outcome = self.run(*args, stdin=stdin)
        assert outcome.code == 0, f"smmpanel {args} failed: {outcome.err}"
        return outcome

    def ok(self, *args: object) -> str:
        """Its output, after checking that it succeeded."""
        return self.checked(*args).out

    def refused(self, *args: object) -> str:
        """Its error message, after checking it was a clear refusal and not a crash."""
        outcome = self.run(*args)
        assert outcome.code == 1, f"smmpanel {args} gave {outcome.code}: {outcome}"
        assert "Traceback" not in outcome.err, outcome.err
        assert outcome.err.startswith("error: "), outcome.err
        return outcome.err
