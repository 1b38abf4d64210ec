"""Operator alerts through Telegram's Bot API (sendMessage), one request a message."""

from typing import Any

import aiohttp

from smmpanel.outbox.sending import Message, SendFailed

TELEGRAM_TIMEOUT = aiohttp.ClientTimeout(total=20)
# Telegram refuses longer texts.
LONGEST_TEXT = 4096


async def send_alert(api_url: str, token: str, message: Message) -> None:
    text = f"{message.subject}\n\n{message.body}"[:LONGEST_TEXT]
    payload = {"chat_id": message.recipient, "text": text, "disable_web_page_preview": True}
    try:
        async with (
            aiohttp.ClientSession(timeout=TELEGRAM_TIMEOUT) as session,
            session.post(f"{api_url}/bot{token}/sendMessage", json=payload) as response,
        ):
            status = response.status
            answer = await _json_object(response)
    except (aiohttp.ClientError, TimeoutError) as unreachable:
        # The token is part of the address, which an error may quote: never show it.
        reason = str(unreachable).replace(token, "<token>")
        raise SendFailed(f"Telegram not reached: {type(unreachable).__name__} {reason}") from None
    if status != 200 or answer.get("ok") is not True:
        description = str(answer.get("description", "no description")).replace(token, "<token>")
        raise SendFailed(f"Telegram refused the message: HTTP {status}: {description}")


async def _json_object(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        answer = await response.json(content_type=None)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
