"""The upstream client sorts failures by whether the request can have reached the upstream."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from smmpanel.providers import client as client_module
from smmpanel.providers.client import (
    Endpoint,
    NoAnswer,
    Unreachable,
    UpstreamClient,
    upstream_session,
)

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`

BALANCE = b'{"balance": "12.50", "currency": "USD"}'
Reply = Callable[[asyncio.StreamWriter], Awaitable[None]]


class Upstream:
    """A loopback server that reads one request per connection and answers it with `reply`
    (saying `Connection: close`, as HTTP/1.1 asks of a server that closes)."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests = 0
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            self.requests += 1
            await self.reply(writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def upstream(reply: Reply) -> AsyncIterator[Upstream]:
    fake = Upstream(reply)
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    fake.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/api/v2"
    try:
        yield fake
    finally:
        server.close()


def head(length: int | None) -> bytes:
    size = b"" if length is None else b"Content-Length: %d\r\n" % length
    return (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: application/json\r\n%s\r\n" % size
    )


async def never_answers(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


async def trickles(writer: asyncio.StreamWriter) -> None:
    """A byte every tenth of a second: never a read timeout, never a whole answer."""
    writer.write(head(len(BALANCE)))
    for byte in BALANCE:
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.1)


async def answers(writer: asyncio.StreamWriter) -> None:
    writer.write(head(len(BALANCE)) + BALANCE)
    await writer.drain()


async def answers_long(writer: asyncio.StreamWriter) -> None:
    writer.write(head(None) + b'{"balance": "' + b"1" * 5000 + b'"}')  # until the connection ends
    await writer.drain()


async def rate_limits(writer: asyncio.StreamWriter) -> None:
    body = b'{"error": "Too many requests"}'
    writer.write(
        b"HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
        % len(body)
        + body
    )
    await writer.drain()


async def drops(writer: asyncio.StreamWriter) -> None:
    """The request arrived; the connection ends without a word."""


@pytest.mark.parametrize(
    "api_url",
    [
        "http://[::1",
        "ftp://127.0.0.1/api/v2",
        "//127.0.0.1/api/v2",
        "http://127.0.0.1:99999/api/v2",
        "http://127.0.0.1:9/api/v2",
    ],
)
async def test_an_address_that_cannot_be_used_or_reached_is_unreachable(api_url):
    async with upstream_session() as http:
        with pytest.raises(Unreachable):
            await UpstreamClient(http).balance(Endpoint(1, api_url, "key", 2.0))


async def test_waiting_too_long_for_a_free_connection_is_unreachable_and_sends_nothing():
    async with upstream(never_answers) as fake, upstream_session(max_connections=1) as http:
        client = UpstreamClient(http)
        holding = asyncio.create_task(client.balance(Endpoint(1, fake.url, "key", 2.0)))
        await asyncio.sleep(0.2)  # the one connection is taken

        with pytest.raises(Unreachable):
            await client.balance(Endpoint(1, fake.url, "key", 0.3))

        with pytest.raises(NoAnswer):  # sent, never answered: the read timeout
            await holding
        assert fake.requests == 1


async def test_an_answer_that_never_ends_runs_out_of_time_and_is_no_answer():
    async with upstream(trickles) as fake, upstream_session() as http:
        started = asyncio.get_running_loop().time()
        with pytest.raises(NoAnswer):
            await UpstreamClient(http).balance(Endpoint(1, fake.url, "key", 0.5))
        assert asyncio.get_running_loop().time() - started < 2.0  # twice the timeout, in all
        assert fake.requests == 1


@pytest.mark.parametrize("reply", [answers, answers_long], ids=["with length", "without length"])
async def test_a_reply_over_the_size_limit_is_no_answer(reply, monkeypatch):
    async with upstream(reply) as fake, upstream_session() as http:
        client = UpstreamClient(http)
        endpoint = Endpoint(1, fake.url, "key", 2.0)
        assert (await client.balance(endpoint))[0] > 0  # read whole under the limit
        monkeypatch.setattr(client_module, "MAX_REPLY_BYTES", 30)
        with pytest.raises(NoAnswer, match="bytes"):
            await client.balance(endpoint)


async def test_a_dropped_connection_is_no_answer_and_a_rate_limit_unreachable():
    async with upstream(drops) as dropping, upstream_session() as http:
        with pytest.raises(NoAnswer):
            await UpstreamClient(http).balance(Endpoint(1, dropping.url, "key", 2.0))
    async with upstream(rate_limits) as limiting, upstream_session() as http:
        with pytest.raises(Unreachable, match="429"):
            await UpstreamClient(http).balance(Endpoint(1, limiting.url, "key", 2.0))
