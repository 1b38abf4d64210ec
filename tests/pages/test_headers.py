"""Security headers on every reply (pages, error pages, static files, the API), HSTS only over
https, and an unexpected fault logged once."""

import logging

import httpx
import pytest
from harness import PanelProcess

from smmpanel.app import create_app
from smmpanel.config import Settings

PATHS = ["/", "/signin", "/admin/signin", "/no-such-page", "/static/panel.css", "/api/v2"]


def assert_security_headers(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    policy = {part.strip() for part in headers["content-security-policy"].split(";")}
    assert {"default-src 'self'", "frame-ancestors 'none'", "base-uri 'self'"} <= policy


@pytest.mark.parametrize("path", PATHS)
async def test_every_reply_carries_the_security_headers(panel, path):
    async with httpx.AsyncClient() as client:
        response = await client.get(panel.url + path, headers={"x-forwarded-proto": "https"})
    assert_security_headers(response)
    # Over plain http, and the forwarded scheme comes from no trusted proxy.
    assert "strict-transport-security" not in response.headers


async def test_hsts_only_for_requests_a_trusted_proxy_received_over_https(database_url):
    panel = PanelProcess(database_url, env={"SMMPANEL_TRUSTED_PROXIES": "127.0.0.1/32"})
    try:
        async with httpx.AsyncClient() as client:
            over_https = await client.get(
                panel.url + "/signin", headers={"x-forwarded-proto": "https"}
            )
            over_http = await client.get(panel.url + "/signin")
    finally:
        panel.stop()
    assert_security_headers(over_https)
    assert over_https.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in over_http.headers


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.fast
async def test_an_unexpected_page_fault_is_answered_and_logged_once(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"), with_worker=False)

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("a bug")

    records = Records()
    logging.getLogger().addHandler(records)
    try:
        transport = httpx.ASGITransport(app=app)  # raises what the app raises, as uvicorn logs it
        async with httpx.AsyncClient(transport=transport, base_url="http://panel") as client:
            response = await client.get("/fails")
    finally:
        logging.getLogger().removeHandler(records)
    assert response.status_code == 503
    assert_security_headers(response)
    [logged] = [record for record in records.records if record.exc_info]
    assert logged.getMessage() == "request failed" and logged.path == "/fails"
