"""E-mail through the SMTP server of SMMPANEL_SMTP_URL (aiosmtplib), one connection a message."""

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from smmpanel.config import SmtpServer
from smmpanel.outbox.sending import Message, SendFailed

SMTP_TIMEOUT_SECONDS = 20


def email_of(message: Message, mail_from: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    sender_domain = parseaddr(mail_from)[1].rpartition("@")[2]
    email["Message-ID"] = make_msgid(domain=sender_domain or None)
    email.set_content(message.body)
    return email


async def send_mail(server: SmtpServer, mail_from: str, message: Message) -> None:
    try:
        await aiosmtplib.send(
            email_of(message, mail_from),
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPConnectTimeoutError, OSError) as down:
        raise SendFailed(f"SMTP {server.host}:{server.port} not reached: {down}") from None
    except aiosmtplib.SMTPException as refused:
        raise SendFailed(f"SMTP {server.host}:{server.port}: {refused}") from None
