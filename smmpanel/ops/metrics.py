"""The process's own counters: API requests by action and outcome, their latency, the worker's
jobs. Each is a counter increment where it happens; what the database knows (queues, provider
counts) is read when /metrics is scraped (`ops.collector`).

Labels come from known sets only (the API's actions, the worker's jobs), so a caller cannot
grow the number of series.
"""

import time
from collections.abc import Awaitable, Callable, Collection

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from starlette.requests import Request
from starlette.responses import Response

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

# Where the API endpoint notes the action it read, for `observed` to label the request with.
ACTION_SCOPE_KEY = "smmpanel.api_action"
OTHER_ACTION = "other"  # no action, or one the API does not have
OUTCOMES = ("ok", "refused", "error", "limited")

API_REQUESTS = Counter(
    "smmpanel_api_requests",
    "API v2 requests by action and outcome (ok, refused, error, limited)",
    ["action", "outcome"],
    registry=REGISTRY,
)
API_SECONDS = Histogram(
    "smmpanel_api_request_seconds",
    "Time to answer an API v2 request, by action",
    ["action"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ORDERS_PLACED = Counter(
    "smmpanel_orders_placed", "Orders placed through the API by this process", registry=REGISTRY
)
JOB_RUNS = Counter(
    "smmpanel_worker_job_runs",
    "Runs of each worker job in this process: found work, idle or failed",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_ITEMS = Counter(
    "smmpanel_worker_job_items",
    "What each worker job handled in this process (orders forwarded, polled, swept...)",
    ["job"],
    registry=REGISTRY,
)

Endpoint = Callable[[Request], Awaitable[Response]]


def outcome_of(response: Response) -> str:
    if response.status_code == 429:
        return "limited"
    if response.status_code >= 500:
        return "error"
    # Every refusal and error reply of the API is {"error": ...}, written by orjson. Only the
    # start is copied: the `services` reply is half a megabyte.
    return "refused" if bytes(response.body[:8]) == b'{"error"' else "ok"


def observed(actions: Collection[str]) -> Callable[[Endpoint], Endpoint]:
    """Count and time each request of the API endpoint, labelled with its action."""
    # Each series looked up once: `labels()` per request cost more than the increment.
    labels = (*actions, OTHER_ACTION)
    seconds = {action: API_SECONDS.labels(action) for action in labels}
    requests = {
        (action, outcome): API_REQUESTS.labels(action, outcome)
        for action in labels
        for outcome in OUTCOMES
    }

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def timed(request: Request) -> Response:
            started = time.perf_counter()
            response = await endpoint(request)
            action = request.scope.get(ACTION_SCOPE_KEY)
            label = action if action in seconds else OTHER_ACTION
            outcome = outcome_of(response)
            seconds[label].observe(time.perf_counter() - started)
            requests[label, outcome].inc()
            if label == "add" and outcome == "ok":
                ORDERS_PLACED.inc()
            return response

        return timed

    return wrap


def job_ran(job: str, handled: int) -> None:
    JOB_RUNS.labels(job, "work" if handled else "idle").inc()
    JOB_ITEMS.labels(job).inc(handled)


def job_failed(job: str) -> None:
    JOB_RUNS.labels(job, "failed").inc()
