"""Where a cancel request of a forwarded order stands with the upstream provider, as both the
operator's and the customer's order pages say it (providers.requests_forwarding carries it)."""

from typing import Protocol

from smmpanel.errors import N_
from smmpanel.orders.statuses import FORWARD_QUEUED, FORWARD_REJECTED, FORWARD_SENT
from smmpanel.pagekit.i18n import gettext as _


class CancelRequest(Protocol):
    forward_state: str | None
    last_error: str | None


# By the request's forward_state; a request of an order fulfilled by hand has none.
UPSTREAM_LABELS = {
    FORWARD_SENT: N_("Sent to the provider, which accepted it"),
    FORWARD_REJECTED: N_("Sent to the provider, which refused it"),
}
NOT_SENT_YET = N_("Not sent to the provider yet")
NOT_ANSWERED_YET = N_("The provider has not answered yet; it is asked again")


def upstream_cancel(cancel: CancelRequest) -> str:
    """What became of the request upstream; empty for an order fulfilled by hand."""
    if cancel.forward_state == FORWARD_QUEUED:
        return _(NOT_ANSWERED_YET if cancel.last_error else NOT_SENT_YET)
    label = UPSTREAM_LABELS.get(cancel.forward_state or "")
    return _(label) if label else ""
