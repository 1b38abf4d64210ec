"""How `smmpanel serve` runs uvicorn: requests bounded in size and time, the proxies whose
forwarded headers are believed, and logs in the panel's JSON."""

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from smmpanel.config import Settings, get_settings
from smmpanel.logs import logging_config
from smmpanel.middleware import SECURITY_HEADERS

# The request line and headers together: every header the panel reads is short.
MAX_REQUEST_HEAD_BYTES = 64 * 1024
KEEP_ALIVE_SECONDS = 5
REFUSAL = b'{"error":"Incorrect request"}'
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"  # what uvicorn writes to a client that expects it
# With several web processes, uvicorn kills one that does not answer its supervisor's ping in
# this time. Its default (5 s) killed busy but healthy processes on a loaded 2-core machine,
# dropping the requests they were answering; a process truly hung is still replaced.
WORKER_HEALTHCHECK_SECONDS = 60

log = logging.getLogger("smmpanel.http")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    proxies = settings.trusted_proxy_list
    return {
        "http": BoundedHttpProtocol,
        "loop": "uvloop",
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise.
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
        "access_log": False,
        "log_config": logging_config(settings.log_level),
        "log_level": settings.log_level.lower(),
    }


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, which bounds neither the size of a request's head nor
    the time a request takes to arrive. Here a head over MAX_REQUEST_HEAD_BYTES (give or take
    one read from the socket) is refused with 431; a request still incomplete
    `request_read_timeout` seconds after its first byte (or after the connection opened) has
    its connection closed; a request the parser cannot read gets the API's JSON error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_timeout = get_settings().request_read_timeout
        self.deadline: asyncio.TimerHandle | None = None
        self.head_open = False  # from a request's first byte to the end of its headers
        self.head_bytes = 0
        self.message_began = False  # in the read being parsed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._restart_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.message_began = False
        super().data_received(data)
        if not self.head_open or self.message_began or self.transport.is_closing():
            return
        # A read wholly inside one request's head, all of which the parser holds. The read
        # where a head begins is not counted: it may end earlier requests (pipelined).
        self.head_bytes += len(data)
        if self.head_bytes > MAX_REQUEST_HEAD_BYTES:
            log.warning("request head too large", extra={"client": self.client})
            self._refuse(b"431 Request Header Fields Too Large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.message_began = self.head_open = True
        self.head_bytes = 0
        self._restart_deadline()

    def on_headers_complete(self) -> None:
        self.head_open = False
        super().on_headers_complete()
        # A new cycle (none for an upgrade) whose reply has a body: a HEAD reply has only
        # its head, which nothing would follow.
        cycle = self.cycle
        new_cycle = cycle is not None and cycle.transport is self.transport
        if new_cycle and self.scope["method"] != "HEAD":
            cycle.transport = HeadWithBody(self.transport)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        self._refuse(b"400 Bad Request")  # uvicorn has logged `msg` already

    def _refuse(self, status: bytes) -> None:
        lines = [b"HTTP/1.1 " + status]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [name + b": " + value for name, value in SECURITY_HEADERS]
        lines += [
            b"content-type: application/json",
            b"content-length: %d" % len(REFUSAL),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + REFUSAL)
        self.transport.close()

    def _restart_deadline(self) -> None:
        self._cancel_deadline()
        self.deadline = self.loop.call_later(self.read_timeout, self.transport.close)

    def _cancel_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


class HeadWithBody:
    """The connection as one reply's cycle writes to it: the reply's head (status line and
    headers) is held and written with the body's first bytes, one system call and one TCP
    segment for both (measured with bench/api.py: a `balance` reply 133 -> 128 µs of CPU).
    uvicorn writes each reply's body after its head, even an empty one, or closes the
    connection. No reference to the cycle is kept: a reference cycle per request would leave
    its objects to the garbage collector."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.head: bytes | None = None
        self.head_seen = False

    def write(self, data: bytes) -> None:
        if not self.head_seen and data != CONTINUE:  # the interim reply is not held
            self.head_seen = True
            self.head = data
            return
        head, self.head = self.head, None
        if head is None:
            self.transport.write(data)
        else:
            self.transport.writelines((head, data))

    def close(self) -> None:
        if self.head is not None:  # the reply failed before its body: what it sent still goes
            self.transport.write(self.head)
            self.head = None
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()
