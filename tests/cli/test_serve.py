"""serve: whether the background worker runs inside the web process; the settings it refuses;
the bounds it puts on requests; how it writes replies; and its logs, every line JSON."""

import socket
import time

import httpx
import orjson
import pytest
import uvicorn
from harness import PanelProcess
from raw_http import exchange, read_until_closed

from smmpanel.cli import server
from smmpanel.config import get_settings
from smmpanel.http_server import CONTINUE, HeadWithBody


@pytest.fixture
def built_apps(monkeypatch, tmp_path):
    """The apps `serve` would run, built as uvicorn builds them in one process."""
    monkeypatch.setenv("SMMPANEL_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.delenv("SMMPANEL_RUN_WORKER", raising=False)
    get_settings.cache_clear()
    apps = []

    def run(app: str, **_options: object) -> None:
        module, name = app.split(":")
        apps.append(getattr(__import__(module, fromlist=[name]), name)())

    monkeypatch.setattr(uvicorn, "run", run)
    yield apps
    get_settings.cache_clear()


@pytest.mark.fast
@pytest.mark.parametrize(("no_worker", "runs_worker"), [(True, False), (False, True)])
def test_no_worker_keeps_the_worker_out_of_the_single_web_process(
    built_apps, no_worker, runs_worker
):
    server.serve(host="127.0.0.1", port=8000, demo=False, no_worker=no_worker, workers=1)
    [app] = built_apps
    assert app.state.runs_worker is runs_worker


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["customer", "list"]])
@pytest.mark.parametrize("secret", [None, "only-31-characters-long-secret!"])
def test_production_refuses_a_missing_or_short_secret_in_one_line(
    cli, monkeypatch, command, secret
):
    monkeypatch.setenv("SMMPANEL_ENVIRONMENT", "production")
    if secret is None:
        monkeypatch.delenv("SMMPANEL_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SMMPANEL_SECRET_KEY", secret)
    error = cli.refused(*command)
    assert error.count("\n") == 1 and "SMMPANEL_SECRET_KEY" in error, error


def test_production_takes_a_long_enough_secret(cli, monkeypatch):
    monkeypatch.setenv("SMMPANEL_ENVIRONMENT", "production")
    monkeypatch.setenv("SMMPANEL_SECRET_KEY", "x" * 32)
    cli.ok("customer", "list")


def test_a_malformed_setting_is_named_in_one_line(cli, monkeypatch):
    monkeypatch.setenv("SMMPANEL_TRUSTED_PROXIES", "10.0.0.0/8, not-an-address")
    error = cli.refused("serve")
    assert error.count("\n") == 1 and "SMMPANEL_TRUSTED_PROXIES" in error, error


def test_every_line_on_stderr_is_json(database_url):
    """Start-up, uvicorn's own lines, a request it cannot parse, a body the API refuses."""
    panel = PanelProcess(database_url, env={"SMMPANEL_LOG_LEVEL": "INFO"})
    try:
        assert httpx.get(panel.url + "/signin").status_code == 200
        deep = b'{"key": "k", "action": "balance", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        httpx.post(panel.api_url, content=deep, headers={"content-type": "application/json"})
        exchange(panel.port, b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        panel.stop()
    lines = panel.process.stderr.read().decode().splitlines()
    entries = [orjson.loads(line) for line in lines]
    messages = [entry["message"] for entry in entries]
    assert any(message.startswith("Started server process") for message in messages), messages
    assert "Invalid HTTP request received." in messages
    assert not any("exception" in entry for entry in entries), entries
    assert not any(entry["logger"] == "uvicorn.access" for entry in entries)  # kept off


def test_a_request_head_over_64_kib_is_refused(panel):
    with socket.create_connection(("127.0.0.1", panel.port), timeout=5) as sock:
        sock.sendall(b"GET /api/v2 HTTP/1.1\r\nHost: x\r\nX-Big: ")
        time.sleep(0.2)  # two reads: the bound counts the reads after the head began
        sock.sendall(b"a" * 70_000)
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:200]
    assert reply.endswith(b'{"error":"Incorrect request"}')
    assert httpx.get(panel.url + "/signin").status_code == 200


def test_endless_headers_are_cut_off_not_buffered(panel):
    with socket.create_connection(("127.0.0.1", panel.port), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        with pytest.raises(OSError):  # the server hangs up: a broken pipe or a reset
            while sent < 400 * 2**20:
                sock.sendall(b"a" * 2**20)
                sent += 2**20
    assert sent < 64 * 2**20  # what the kernel's buffers took before the server hung up
    assert httpx.get(panel.url + "/signin").status_code == 200


def test_slow_requests_are_cut_off(database_url):
    panel = PanelProcess(database_url, env={"SMMPANEL_REQUEST_READ_TIMEOUT": "1"})
    slow = {
        "a head that never ends": b"GET / HTTP/1.1\r\nHost: x\r\n",
        "a body that stops short": b"POST /api/v2 HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nkey=",
        "nothing at all": b"",
    }
    try:
        for case, request in slow.items():
            started = time.monotonic()
            exchange(panel.port, request, timeout=10)
            assert time.monotonic() - started < 5, case
    finally:
        panel.stop()


def test_a_client_expecting_100_continue_gets_it_before_sending_the_body(panel):
    body = b"action=balance&key=nobody"
    head = (
        b"POST /api/v2 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", panel.port), timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert reply.endswith(b'{"error":"Invalid API key"}')


def test_pipelined_requests_get_their_replies_whole_and_in_order(panel):
    requests = [
        b"GET /api/v2?action=balance&key=nobody HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HEAD /api/v2 HTTP/1.1\r\nHost: x\r\n\r\n",  # a head only, for {"error": ...}
        b"GET /api/v2?action=nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ]
    reply = exchange(panel.port, b"".join(requests))
    heads_and_bodies = reply.split(b"HTTP/1.1 200 OK\r\n")[1:]
    assert len(heads_and_bodies) == 3, reply
    invalid_key, head_only, incorrect = heads_and_bodies
    assert invalid_key.endswith(b'\r\n\r\n{"error":"Invalid API key"}')
    assert head_only.endswith(b"\r\n\r\n") and b"content-length: 29\r\n" in head_only
    assert incorrect.endswith(b'\r\n\r\n{"error":"Incorrect request"}')


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, parts: tuple[bytes, ...]) -> None:
        self.calls.append(("writelines", *parts))

    def close(self) -> None:
        self.calls.append(("close",))


@pytest.mark.fast
def test_a_reply_head_goes_out_with_the_first_body_bytes_in_one_write():
    transport = RecordingTransport()
    reply = HeadWithBody(transport)  # type: ignore[arg-type]
    reply.write(CONTINUE)
    reply.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.calls == [("write", CONTINUE)]
    reply.write(b"first")
    reply.write(b"second")
    assert transport.calls[1:] == [
        ("writelines", b"HTTP/1.1 200 OK\r\n\r\n", b"first"),
        ("write", b"second"),
    ]


@pytest.mark.fast
def test_a_reply_closed_before_its_body_still_sends_its_head():
    transport = RecordingTransport()
    reply = HeadWithBody(transport)  # type: ignore[arg-type]
    reply.write(b"HTTP/1.1 200 OK\r\n\r\n")
    reply.close()
    assert transport.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\n"), ("close",)]
