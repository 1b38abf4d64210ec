"""The channels set up in the settings, each as the sender the outbox's worker calls."""

from functools import partial

from smmpanel.config import Settings
from smmpanel.outbox.models import EMAIL, TELEGRAM
from smmpanel.outbox.sending import Sender
from smmpanel.outbox.smtp import send_mail
from smmpanel.outbox.telegram import send_alert


def configured_senders(settings: Settings) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    if settings.smtp is not None:
        senders[EMAIL] = partial(send_mail, settings.smtp, settings.mail_from)
    if settings.telegram_configured:
        senders[TELEGRAM] = partial(
            send_alert, settings.telegram_api_url, settings.telegram_bot_token
        )
    return senders
