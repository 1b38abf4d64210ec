"""Upstream trouble as the providers' pages tell it: what kind of failure, then the account of
it in the pages' own words where the domain's names a command of the command line."""

from dataclasses import dataclass

from smmpanel.errors import N_, Refusal, RefusalKind
from smmpanel.pagekit import i18n
from smmpanel.pagekit.i18n import gettext as _
from smmpanel.panel.rates import NO_EXCHANGE_RATE
from smmpanel.providers.catalog_sync import (
    UPSTREAM_ANSWERED_ERROR,
    UPSTREAM_NO_USABLE_ANSWER,
    UPSTREAM_REFUSED_KEY,
    UPSTREAM_UNREACHABLE,
)
from smmpanel.providers.service import NO_PROVIDER

# The pages' own words for the refusals whose template names a command of the command line:
# here the operator sets things right on the page instead. Same params as the template.
PAGE_WORDING: dict[RefusalKind, str] = {
    UPSTREAM_UNREACHABLE: N_(
        "cannot reach provider %(name)s (%(url)s): %(problem)s. Check its API address in the"
        " settings below and this machine's network, then try again"
    ),
    UPSTREAM_REFUSED_KEY: N_(
        "provider %(name)s (%(url)s) refused our API key (%(problem)s). Enter the key its panel"
        " gave you in the settings below"
    ),
    UPSTREAM_NO_USABLE_ANSWER: N_(
        "provider %(name)s (%(url)s) gave no usable answer (%(problem)s). Check that the address"
        " is its API v2 address, or allow it more time (a longer timeout in the settings"
        " below), then try again"
    ),
    NO_EXCHANGE_RATE: N_(
        "no exchange rate for %(code)s: set on the settings page what one %(code)s is worth in"
        " %(panel)s (such as 31.5)"
    ),
    NO_PROVIDER: N_("there is no provider %(ref)r"),
}


@dataclass(frozen=True)
class UpstreamTrouble:
    headline: str  # what kind of failure, translated
    detail: str  # the domain's account of it, translated


def trouble_of(refused: Refusal) -> UpstreamTrouble:
    """A failed call to the provider: what kind of failure, then the domain's advice."""
    advice = refused.params.get("advice")  # wrapped: the list is unavailable, nothing changed
    cause = advice if isinstance(advice, Refusal) else refused
    return UpstreamTrouble(_headline(cause.kind), explained(refused))


def explained(refused: Refusal) -> str:
    """A refusal in the page's words where it has its own, translated; a refusal among its
    params (the advice it wraps) too."""
    wrapped = {
        name: explained(value)
        for name, value in refused.params.items()
        if isinstance(value, Refusal)
    }
    return i18n.explain(refused, PAGE_WORDING.get(refused.kind), **wrapped)


def in_english(refused: Refusal) -> str:
    """The page's words untranslated: what is kept as the provider's last error."""
    params = {
        name: in_english(value) if isinstance(value, Refusal) else value
        for name, value in refused.params.items()
    }
    return PAGE_WORDING.get(refused.kind, refused.template) % params


def _headline(kind: RefusalKind) -> str:
    if kind is UPSTREAM_UNREACHABLE:
        return _("Cannot reach the provider: check its address and this machine's network.")
    if kind is UPSTREAM_REFUSED_KEY:
        return _("The provider refused our API key: set the key its panel gave you.")
    if kind is UPSTREAM_ANSWERED_ERROR:
        return _("The provider answered with an error.")
    if kind is UPSTREAM_NO_USABLE_ANSWER:
        return _(
            "No usable answer from the provider: it took too long, or its reply is not API v2."
        )
    return _("The provider could not be asked.")
