"""serve: whether the background worker runs inside the web process."""

import pytest
import uvicorn

from smmpanel.cli import server
from smmpanel.config import get_settings

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


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


@pytest.mark.parametrize(("no_worker", "runs_worker"), [(True, False), (False, True)])
def test_no_worker_keeps_the_worker_out_of_the_single_web_process(
    built_apps, no_worker, runs_worker
):
    server.serve(host="127.0.0.1", port=8000, demo=False, no_worker=no_worker, workers=1)
    [app] = built_apps
    assert app.state.runs_worker is runs_worker
