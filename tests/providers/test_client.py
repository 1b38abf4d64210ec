"""The upstream client sorts failures by whether the request can have reached the upstream."""

import httpx
import pytest

from smmpanel.providers.client import Endpoint, Unreachable, UpstreamClient

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


@pytest.mark.parametrize(
    "api_url",
    ["http://[::1", "ftp://127.0.0.1/api/v2", "http://127.0.0.1:9/api/v2"],
)
async def test_an_address_that_cannot_be_used_or_reached_is_unreachable(api_url):
    async with httpx.AsyncClient() as http:
        client = UpstreamClient(http)
        with pytest.raises(Unreachable):
            await client.balance(Endpoint(1, api_url, "key", 2.0))
