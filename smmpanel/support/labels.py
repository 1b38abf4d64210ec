"""The words the pages show for a ticket's subject and status, translated where shown."""

from smmpanel.errors import N_, Term

SUBJECT_LABELS: dict[str, Term] = {
    "order": N_("An order"),
    "payment": N_("A payment"),
    "refill": N_("A refill"),
    "cancel": N_("A cancel"),
    "other": N_("Something else"),
}
STATUS_LABELS: dict[str, Term] = {
    "open": N_("Open"),
    "answered": N_("Replied"),
    "closed": N_("Closed"),
}
