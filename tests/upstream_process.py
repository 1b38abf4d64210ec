"""The fake upstream panel (tests/fakes/upstream.py) in a process of its own, for page tests
that need a provider to answer."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import harness
import httpx

FAKE_UPSTREAM = Path(__file__).resolve().parent / "fakes" / "upstream.py"
UPSTREAM_KEY = "upstream-test-key"  # the key tests/fakes/upstream.py accepts


class Upstream:
    def __init__(self, url: str) -> None:
        self.url = url
        self.api_url = f"{url}/api/v2"

    def control(self, **settings: object) -> None:
        httpx.post(f"{self.url}/_control", json=settings, timeout=5).raise_for_status()

    def sent_links(self) -> dict[str, int]:
        return httpx.get(f"{self.url}/_state", timeout=5).json()["sent_links"]


@contextmanager
def running_upstream() -> Iterator[Upstream]:
    """The fake upstream started on a free port, answering, and stopped afterwards."""
    port = harness.free_port()
    process = subprocess.Popen(
        [sys.executable, str(FAKE_UPSTREAM), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    upstream = Upstream(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"{upstream.url}/_state", timeout=1)
            break
        except httpx.HTTPError:
            assert process.poll() is None and time.monotonic() < deadline, "no fake upstream"
            time.sleep(0.05)
    try:
        yield upstream
    finally:
        process.terminate()
        process.wait(timeout=10)
