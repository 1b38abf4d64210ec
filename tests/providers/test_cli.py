"""`smmpanel provider ...` end to end: the real command against the fake upstream."""

import io
import re

from catalog_samples import UPSTREAM_KEY, free_port, offered

from smmpanel.cli.common import show_progress

NAME = "shop-a"


def rows_of(output: str) -> list[list[str]]:
    """A printed table's rows (header left out), cells split on runs of two or more spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines()[1:]]


def test_add_list_import_sync_changes_balance(provider_fresh_cli, catalog_upstream):
    cli = provider_fresh_cli
    printed: list[str] = []

    def ok(*args: object) -> str:
        outcome = cli.checked(*args)
        printed.extend([outcome.out, outcome.err])
        return outcome.out

    added = ok("provider", "add", NAME, catalog_upstream.api_url, "--key", UPSTREAM_KEY)
    assert "added provider 1 (shop-a)" in added and "never shown again" in added

    listed = ok("provider", "list")
    assert listed.splitlines()[0].split("  ")[0] == "id"
    assert rows_of(listed) == [
        ["1", NAME, "yes", "0", "0", "0", "0", "-", "-", "-", "-", "-", "6 h"]
    ]

    catalog_upstream.offer([offered(1, rate="1.00"), offered(2, rate="2.00"), offered(3)])
    first = cli.checked(
        "provider", "import", NAME, "--markup-percent", "20", "--markup-fixed", "0.01",
        "--decimals", "2", "--services", "1,2,99",
    )  # fmt: skip
    printed.extend([first.out, first.err])
    assert "2 new, 0 updated, 1 skipped" in first.out
    assert "skipped 99: not in the upstream's list" in first.out
    assert "+20%, +0.01, rounded up to 2 decimals" in first.out
    assert "importing services" not in first.err  # not a terminal: the summary alone

    everything = ok("provider", "import", "1")
    assert "1 new, 2 updated, 0 skipped" in everything
    assert "+20%, +0.01, rounded up to 2 decimals" in everything  # the saved rule

    catalog_upstream.offer([offered(1, rate="1.50"), offered(2, rate="2.00")])
    synced = ok("provider", "sync", NAME)
    assert "3 of our services checked, 2 changed, 1 disabled as gone upstream" in synced
    assert "4 changes recorded" in synced

    changes = rows_of(ok("provider", "changes", NAME))
    assert [row[4:] for row in changes] == [
        ["enabled", "yes", "no"],
        ["upstream", "listed", "gone"],
        ["upstream_rate", "1", "1.5"],
        ["rate", "1.21", "1.81"],
        ["added", "-", "1.21"],  # service 3, by the second import
        ["added", "-", "2.41"],
        ["added", "-", "1.21"],
    ]
    assert [row[1] for row in changes] == [NAME] * 7
    assert rows_of(ok("provider", "changes", "--limit", "1"))[0][4:] == ["enabled", "yes", "no"]

    catalog_upstream.control(balance="12.5")
    assert ok("provider", "balance", NAME).strip() == "balance at shop-a: 12.50 USD"
    assert rows_of(ok("provider", "list"))[0][10] == "12.50 USD"

    assert "synced shop-a" in ok("provider", "sync", "--all")
    assert all(UPSTREAM_KEY not in text for text in printed)


def test_edit_disable_and_enable(provider_fresh_cli, catalog_upstream):
    cli = provider_fresh_cli
    cli.checked("provider", "add", NAME, catalog_upstream.api_url, "--key", "old-key")
    edited = cli.checked("provider", "edit", NAME, "--key", UPSTREAM_KEY, "--timeout", "9").out
    assert "changed key, timeout" in edited and UPSTREAM_KEY not in edited
    assert "balance at shop-a" in cli.checked("provider", "balance", NAME).out

    assert "is disabled" in cli.checked("provider", "disable", NAME).out
    assert rows_of(cli.checked("provider", "list").out)[0][2] == "no"
    assert "no enabled providers to sync" in cli.checked("provider", "sync", "--all").out
    assert "is enabled" in cli.checked("provider", "enable", "1").out
    assert rows_of(cli.checked("provider", "list").out)[0][2] == "yes"


def test_sync_hours_are_set_per_provider_and_listed(provider_fresh_cli, catalog_upstream):
    cli = provider_fresh_cli
    cli.checked("provider", "add", NAME, catalog_upstream.api_url, "--key", UPSTREAM_KEY)
    assert "changed sync hours" in cli.checked("provider", "edit", NAME, "--sync-hours", "24").out
    assert rows_of(cli.checked("provider", "list").out)[0][-1] == "24 h"
    for wrong in ("0", "721", "-3"):
        refusal = cli.refused("provider", "edit", NAME, "--sync-hours", wrong)
        assert "every 1 to 720 hours" in refusal
    assert rows_of(cli.checked("provider", "list").out)[0][-1] == "24 h"


def test_every_refusal_says_what_to_do(provider_fresh_cli, catalog_upstream):
    cli = provider_fresh_cli
    assert "provider list" in cli.refused("provider", "balance", "nobody")
    cli.checked("provider", "add", NAME, catalog_upstream.api_url, "--key", "wrong-key")
    assert "--timeout or --sync-hours" in cli.refused("provider", "edit", NAME)
    assert "key is empty" in cli.refused("provider", "edit", NAME, "--key", " ")
    assert "not both" in cli.refused("provider", "sync")
    assert "cannot be negative" in cli.refused("provider", "import", NAME, "--markup-percent", "-5")
    assert "0 to 6 decimals" in cli.refused("provider", "import", NAME, "--decimals", "9")

    refused_key = cli.refused("provider", "sync", NAME)
    assert "refused our API key" in refused_key and "provider edit 1 --key" in refused_key
    assert "refused our API key" in cli.refused("provider", "import", NAME)

    dead = f"http://127.0.0.1:{free_port()}/api/v2"
    cli.checked("provider", "add", "dead", dead, "--key", "k")
    unreachable = cli.refused("provider", "balance", "dead")
    assert "cannot reach" in unreachable and "--url" in unreachable
    outcome = cli.run("provider", "sync", "--all")
    assert outcome.code == 1 and "2 of 2 providers were not synced" in outcome.err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_line_rewritten_on_a_terminal_only(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    for done in (500, 1000, 1500, 2000):
        show_progress("importing services", done, 2000)
    assert terminal.getvalue() == (
        "\rimporting services: 500/2000 (25%)\rimporting services: 1000/2000 (50%)"
        "\rimporting services: 1500/2000 (75%)\rimporting services: 2000/2000 (100%)\n"
    )
    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    show_progress("importing services", 2000, 2000)
    assert piped.getvalue() == ""
