"""`settings set --rate CODE=RATE` (repeatable), `settings show` listing the rates, and the
panel's currency: an ISO 4217 code, changed only while no money exists."""


async def test_rates_are_set_shown_and_changed(fresh_cli):
    cli = await fresh_cli()
    output = cli.ok(
        "settings", "set", "--currency", "twd", "--rate", "usd=31.5", "--rate", "JPY=0.207"
    )
    assert output.endswith(
        "currency: TWD\n"
        "payment instructions: \n"
        "default language: en\n"
        "exchange rate: 1 JPY = 0.207 TWD\n"
        "exchange rate: 1 USD = 31.5 TWD\n"
    ), output
    assert cli.ok("settings", "show") == output
    assert "exchange rate: 1 USD = 32 TWD\n" in cli.ok("settings", "set", "--rate", "USD=32")


async def test_bad_rates_are_refused_and_change_nothing(fresh_cli):
    cli = await fresh_cli()
    cli.ok("settings", "set", "--currency", "TWD")
    refusals = {
        ("--rate", "USD"): "write an exchange rate as CODE=RATE, such as USD=31.5, not 'USD'",
        ("--rate", "ABC=1"): "ABC is not a currency code of ISO 4217",
        ("--rate", "TWD=1"): "TWD is the panel's own currency: it needs no exchange rate",
        ("--rate", "USD=0"): "the exchange rate of USD must be above zero",
        ("--rate", "USD=lots"): "exchange rate of USD: not an amount: 'lots'",
        ("--rate", "EUR=34", "--rate", "USD=-1"): "the exchange rate of USD must be above zero",
        ("--currency", "XYZ"): "XYZ is not a currency code of ISO 4217",
    }
    for args, says in refusals.items():
        assert says in cli.refused("settings", "set", *args), args
    assert "exchange rate" not in cli.ok("settings", "show")  # not even EUR: one transaction


async def test_the_currency_changes_until_money_exists(fresh_cli):
    cli = await fresh_cli()
    cli.ok("settings", "set", "--currency", "TWD", "--rate", "USD=31.5")
    shown = cli.ok("settings", "set", "--currency", "EUR")
    assert "currency: EUR\n" in shown and "exchange rate" not in shown  # those were in TWD
    cli.ok("customer", "create", "alice", "--balance", "10")
    refusal = cli.refused("settings", "set", "--currency", "USD")
    assert "the panel's currency cannot change once money exists" in refusal
    assert "in EUR already" in refusal
    assert "currency: EUR\n" in cli.ok("settings", "set", "--currency", "eur", "--name", "Same")
