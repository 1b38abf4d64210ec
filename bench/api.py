"""How fast the panel answers API v2, beside a bare Starlette baseline measured in the same run.

Run by hand (never by pytest), from the project's root:

    .venv/bin/python bench/api.py                       # both backends, 10 s per server
    .venv/bin/python bench/api.py --backend postgresql  # or sqlite
    .venv/bin/python bench/api.py --quick               # 3 s per server: a smoke check
    .venv/bin/python bench/api.py --actions add --profile   # py-spy the panel while measured
    .venv/bin/python bench/api.py --orders 1000000 --services 5000 --customers 10000

For each backend it:

1. builds a fresh database (SQLite: a file in a temp dir; PostgreSQL: a new database on
   127.0.0.1:5432, dropped at the end) with a realistic data set (bench/dataset.py): 2,000
   services of mixed types in 40 categories, 200 customers, 100,000 paid orders, and a benchmark
   customer with an API key, a big balance and about 5,000 of those orders (--services,
   --customers and --orders set other sizes);
2. starts the panel (`python -m smmpanel serve --no-worker`, one uvicorn process, no rate limit)
   and the bare baseline (bench/baseline.py: same uvicorn settings, uvloop + httptools, no access
   log; it parses the form and returns a small JSON object, or the panel's own `services` bytes);
3. drives each with wrk over loopback (`-t1 -c32 --latency`, Lua scripts for the POST bodies,
   bench/loadgen.py), after a short warm-up, 10 s per server and action split into 5 runs
   taken in turn (panel, baseline, panel...: a drift in the machine's load weighs on both),
   for: balance, services, status (one order), multi-status (100 of the customer's order
   ids), add (a new link each time, so each request is a new order on a Default service) and
   add-200-keys (the same, each request with the key of one of 200 customers in turn: each of
   them gets a new key and funds before the runs);
4. prints a table (panel req/s, p50, p99, baseline req/s, ratio, failed replies, CPU time per
   reply of each server process, target, PASS/MISS), writes it as JSON to
   bench/results/api-<backend>.json, and runs the panel's own audit of the books.

Replies are checked (bench/loadgen.py): a run with any reply that is not HTTP 200, holds "error",
timed out (wrk --timeout 10s), or, for `services`, weighs less than the catalogue, is reported
INVALID, never as a figure. For `add` the rate is orders/s: replies that succeeded, cross-checked
with the orders the database gained. The machine is shared and has 2 cores that wrk, the server
and PostgreSQL split: read the ratios and the CPU per reply first; the load average at the start
and end of each backend's runs is printed to show how busy the machine was.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import dataset
import loadgen
from sqlalchemy import func, select

from smmpanel.accounts.service import create_api_key, credit
from smmpanel.db import Database
from smmpanel.db.migrate import upgrade
from smmpanel.money import MICROS
from smmpanel.orders.models import orders

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
POSTGRES_ADMIN_URL = os.environ.get(
    "SMMPANEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PY_SPY = Path(sys.executable).parent / "py-spy"
WARMUP_SECONDS = 2.0
ADD_QUANTITY = 100
MANY_KEYS = 200  # add-200-keys: the customers whose keys the requests take in turn
MANY_KEYS_FUNDS = 1_000_000 * MICROS  # each of them: ~11 million orders of 0.09


@dataclass(frozen=True)
class Target:
    label: str
    ratio: float | None = None  # of the bare baseline's req/s
    rate: float | None = None  # req/s (orders/s for add)
    max_cpu_us: float | None = None  # the panel's CPU per reply (per order for add)

    def met(self, ratio: float, rate: float, cpu_us: float | None) -> bool:
        if self.max_cpu_us is not None:
            return cpu_us is not None and cpu_us <= self.max_cpu_us
        return ratio >= self.ratio if self.ratio is not None else rate >= (self.rate or 0)


@dataclass(frozen=True)
class Action:
    name: str
    fields: Callable[[dataset.DataSet], dict]  # the form, less the key
    bare_path: str  # the baseline route measured beside it
    new_order_each: bool = False  # add: a new link per request
    many_keys: bool = False  # each request with the key of one of MANY_KEYS customers in turn


ACTIONS = (
    Action("balance", lambda d: {"action": "balance"}, "/form"),
    Action("services", lambda d: {"action": "services"}, "/services"),
    Action("status", lambda d: {"action": "status", "order": d.status_order}, "/form"),
    Action(
        "multi-status",
        lambda d: {"action": "status", "orders": ",".join(map(str, d.multi_orders))},
        "/form",
    ),
    Action(
        "add",
        lambda d: {"action": "add", "service": d.add_service, "quantity": ADD_QUANTITY},
        "/form",
        new_order_each=True,
    ),
    Action(
        "add-200-keys",
        lambda d: {"action": "add", "service": d.add_service, "quantity": ADD_QUANTITY},
        "/form",
        new_order_each=True,
        many_keys=True,
    ),
)


def targets(action: str, backend: str) -> list[Target]:
    """docs/design.md's targets (issue 12): ratios to the bare baseline, rates, CPU per reply."""
    cpu = Target("≤1,000 µs CPU", max_cpu_us=1000)
    add_rate = 800 if backend == "postgresql" else 400
    add_targets = [Target(f"≥{add_rate} orders/s", rate=add_rate), cpu]
    return {
        "balance": [Target("≥0.5× bare", ratio=0.5)],
        "services": [Target("≥0.8× bare (same bytes)", ratio=0.8)],
        "status": [Target("≥0.5× bare", ratio=0.5)],
        "multi-status": [Target("≥800 req/s", rate=800), cpu],
        "add": add_targets,
        "add-200-keys": add_targets,
    }[action]


# --- databases ----------------------------------------------------------------------------


def create_database(backend: str, tmp_dir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / 'bench.db'}"
    name = f"smmpanel_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(backend: str, url: str) -> None:
    if backend == "postgresql":
        name = url.rsplit("/", 1)[1]
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_admin(statement: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(
    name: str, command: list[str], port: int, cwd: Path, env: dict
) -> Iterator[subprocess.Popen]:
    """A server process, once it answers HTTP on `port`; stopped on the way out."""
    log = cwd / f"{name}-{port}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=log_file, stderr=log_file
        )
    try:
        _wait_until_answering(process, port, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        said = [line for line in log.read_text().splitlines() if not line.startswith("serving on")]
        if said:
            print(f"the {name} said:\n" + "\n".join(said[-40:]))


def _wait_until_answering(
    process: subprocess.Popen, port: int, log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered (404 from the baseline)
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no answer on port {port} after {timeout} s")


def panel_command(port: int, web_processes: int = 1) -> list[str]:
    return [
        *(sys.executable, "-m", "smmpanel", "serve", "--no-worker", "--port", str(port)),
        *("--workers", str(web_processes)),
    ]


def panel_env(database_url: str) -> dict:
    return {
        "SMMPANEL_DATABASE_URL": database_url,
        "SMMPANEL_API_RATE_LIMIT": "0",
        "SMMPANEL_LOG_LEVEL": "WARNING",
    }


def baseline_command(port: int, services_file: Path) -> list[str]:
    return [
        sys.executable,
        str(BENCH_DIR / "baseline.py"),
        "--port",
        str(port),
        "--services-file",
        str(services_file),
    ]


def post(url: str, fields: dict) -> bytes:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=data, timeout=30) as reply:
        return reply.read()


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Measured:
    action: str
    panel: loadgen.Run
    bare: loadgen.Run
    rate: float  # req/s, or orders/s for add
    orders_created: int | None
    targets: list[Target]

    @property
    def ratio(self) -> float:
        return self.panel.rps / self.bare.rps if self.bare.rps else 0.0

    @property
    def verdict(self) -> str:
        if not self.panel.valid:
            return "INVALID (failed replies)"
        if not self.bare.valid:
            return "INVALID (the baseline's replies failed)"
        if not self.targets:
            return "-"
        return " / ".join("PASS" if self.met(t) else "MISS" for t in self.targets)

    def met(self, target: Target) -> bool:
        return target.met(self.ratio, self.rate, self.cpu_us)

    @property
    def cpu_us(self) -> float | None:
        """The panel's CPU per reply, or per order stored for add."""
        cpu = self.panel.server_cpu_us
        if cpu is None or self.orders_created is None or self.rate <= 0:
            return cpu
        return cpu * self.panel.rps / self.rate

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "panel": self.panel.as_dict(),
            "bare": self.bare.as_dict(),
            "ratio": round(self.ratio, 3),
            "rate": round(self.rate, 1),
            "orders_created": self.orders_created,
            "panel_cpu_us": self.cpu_us,  # per reply, or per order stored for add
            "targets": [
                {
                    "target": t.label,
                    "met": self.panel.valid and self.bare.valid and self.met(t),
                }
                for t in self.targets
            ],
            "verdict": self.verdict,
        }


@dataclass
class Session:
    """What every measurement of one backend shares."""

    backend: str
    database_url: str
    data: dataset.DataSet
    panel_api: str
    bare_url: str
    panel_pid: int
    bare_pid: int
    scripts: Path
    seconds: float  # per server and action, split into `rounds` runs taken in turn
    rounds: int
    warmup: float
    profile: bool
    many_keys: dict[int, str]  # add-200-keys: customer id -> key


def measure(session: Session, action: Action, services_length: int) -> Measured:
    # The services reply is too big for wrk's Lua hook; its bytes are checked instead.
    big_reply = action.name == "services"
    min_bytes = services_length if big_reply else 0
    keys = list(session.many_keys.values()) if action.many_keys else [session.data.key]
    customer_ids = list(session.many_keys) if action.many_keys else [session.data.customer_id]
    body = urllib.parse.urlencode(action.fields(session.data))

    def wrk(url: str, seconds: float, pid: int) -> loadgen.Run:
        tag = uuid.uuid4().hex[:8] if action.new_order_each else None  # a new link per add
        script = loadgen.write_script(
            session.scripts,
            f"{action.name}-{tag}",
            body,
            keys,
            check_replies=not big_reply,
            link_tag=tag,
        )
        return loadgen.run_wrk(url, script, seconds, min_bytes, pid)

    panel_pid, bare_url, bare_pid = session.panel_pid, session.bare_url, session.bare_pid
    bare_url += action.bare_path
    wrk(session.panel_api, session.warmup, panel_pid)
    wrk(bare_url, session.warmup, bare_pid)
    count_before = _orders_of(session, customer_ids) if action.new_order_each else 0
    # In turn, so that the machine's load drifting during the runs weighs on both sides alike.
    each = session.seconds / session.rounds  # whole seconds (parse_args)
    panel_runs, bare_runs = [], []
    with _profiling(session, action.name):
        for _ in range(session.rounds):
            panel_runs.append(wrk(session.panel_api, each, panel_pid))
            bare_runs.append(wrk(bare_url, each, bare_pid))
    created = _orders_of(session, customer_ids) - count_before if action.new_order_each else None
    panel, bare = loadgen.combined(panel_runs), loadgen.combined(bare_runs)
    rate = panel.rps
    if created is not None:  # orders both stored and answered as placed
        rate = min(created, panel.checked - panel.bad) / panel.seconds
    return Measured(action.name, panel, bare, rate, created, targets(action.name, session.backend))


def _orders_of(session: Session, customer_ids: list[int]) -> int:
    """These customers' orders, once requests still in flight have landed."""
    count = -1
    for _ in range(40):
        latest = asyncio.run(count_orders(session.database_url, customer_ids))
        if latest == count:
            break
        count = latest
        time.sleep(0.25)
    return count


async def count_orders(database_url: str, customer_ids: list[int]) -> int:
    db = Database(database_url, pool_size=1)
    try:
        async with db.read() as conn:
            query = select(func.count()).where(orders.c.customer_id.in_(customer_ids))
            return await conn.scalar(query) or 0
    finally:
        await db.dispose()


async def add_keys(database_url: str, customer_ids: list[int]) -> dict[int, str]:
    """A new API key and funds (a deposit in the ledger) for each customer, for add-200-keys."""
    db = Database(database_url, pool_size=1)
    try:
        async with db.write() as conn:
            keys = {}
            for customer_id in customer_ids:
                keys[customer_id] = await create_api_key(conn, customer_id, "bench")
                await credit(
                    conn, customer_id, MANY_KEYS_FUNDS, kind="deposit", reason="bench funds"
                )
            return keys
    finally:
        await db.dispose()


@contextlib.contextmanager
def _profiling(session: Session, action: str) -> Iterator[None]:
    """With --profile: py-spy samples the panel during the measured runs, the baseline's
    included (the panel idles then: py-spy leaves idle threads out); it slows it a little."""
    if not session.profile:
        yield
        return
    with profiling(session.panel_pid, 2 * session.seconds, f"{session.backend}-{action}"):
        yield


@contextlib.contextmanager
def profiling(pid: int, seconds: float, name: str) -> Iterator[None]:
    """py-spy samples process `pid` for `seconds` into bench/results/profile-<name>.txt."""
    RESULTS_DIR.mkdir(exist_ok=True)
    output = RESULTS_DIR / f"profile-{name}.txt"
    command = [str(PY_SPY), "record", "--format", "raw", "--nonblocking", "--rate", "200"]
    command += ["--duration", str(int(seconds)), "--output", str(output)]
    command += ["--pid", str(pid)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.wait(timeout=seconds + 30)
        print(f"  profile of {name}: {output}")


# --- one backend --------------------------------------------------------------------------


def bench_backend(backend: str, args: argparse.Namespace) -> dict:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="smmpanel-bench-") as tmp:
        tmp_dir = Path(tmp)
        url = create_database(backend, tmp_dir)
        try:
            upgrade(url)
            started = time.monotonic()
            data = asyncio.run(dataset.build(url, data_size(args)))
            print(f"{backend}: data set built in {time.monotonic() - started:.1f} s")
            many_keys = {}
            if any(action.many_keys for action in chosen_actions(args)):
                customers = list(range(1, min(MANY_KEYS, data.size.customers) + 1))
                many_keys = asyncio.run(add_keys(url, customers))
            results = _measure_all(backend, url, data, many_keys, tmp_dir, args)
            problems = asyncio.run(dataset.check_books(url))
        finally:
            drop_database(backend, url)
    load = (load_before, os.getloadavg()[0])
    return _report(backend, data, results, problems, load, args)


def data_size(args: argparse.Namespace) -> dataset.Size:
    size = dataset.Size()
    return dataset.Size(
        services=args.services or size.services,
        customers=args.customers or size.customers,
        orders=args.orders or size.orders,
    )


def chosen_actions(args: argparse.Namespace) -> list[Action]:
    return [a for a in ACTIONS if not args.actions or a.name in args.actions]


def _measure_all(
    backend: str,
    url: str,
    data: dataset.DataSet,
    many_keys: dict[int, str],
    tmp_dir: Path,
    args: argparse.Namespace,
) -> list[Measured]:
    panel_port, bare_port = free_port(), free_port()
    command = panel_command(panel_port, args.web_processes)
    with running("panel", command, panel_port, tmp_dir, panel_env(url)) as panel:
        panel_api = f"http://127.0.0.1:{panel_port}/api/v2"
        services_body = post(panel_api, {"key": data.key, "action": "services"})
        if not services_body.startswith(b"["):
            raise RuntimeError(f"the panel's services reply is not a list: {services_body[:200]!r}")
        services_file = tmp_dir / "services.json"
        services_file.write_bytes(services_body)
        print(f"{backend}: panel pid {panel.pid}; services reply {len(services_body):,} bytes")
        baseline = baseline_command(bare_port, services_file)
        with running("baseline", baseline, bare_port, tmp_dir, {}) as bare:
            scripts = tmp_dir / "lua"
            scripts.mkdir()
            session = Session(
                backend=backend,
                database_url=url,
                data=data,
                panel_api=panel_api,
                bare_url=f"http://127.0.0.1:{bare_port}",
                panel_pid=panel.pid,
                bare_pid=bare.pid,
                scripts=scripts,
                seconds=args.duration,
                rounds=args.rounds,
                warmup=min(WARMUP_SECONDS, args.duration),
                profile=args.profile,
                many_keys=many_keys,
            )
            return [measure(session, action, len(services_body)) for action in chosen_actions(args)]


# --- reporting ----------------------------------------------------------------------------

COLUMNS = (
    ("action", 13, "<"),
    ("panel req/s", 11, ">"),
    ("p50 ms", 7, ">"),
    ("p99 ms", 7, ">"),
    ("bare req/s", 10, ">"),
    ("ratio", 6, ">"),
    ("failed", 6, ">"),
    ("CPU µs/reply", 12, ">"),
    ("target", 45, "<"),
    ("verdict", 0, "<"),
)


def format_row(values: tuple, columns: tuple = COLUMNS) -> str:
    """One line of a table of fixed-width columns: (name, width, alignment) each."""
    return "  ".join(
        f"{v:{align}{width}}" for v, (_, width, align) in zip(values, columns, strict=True)
    )


def _table_row(m: Measured) -> tuple:
    verdict = m.verdict + (f" ({m.rate:,.0f} orders/s)" if m.orders_created is not None else "")
    target = " / ".join(t.label for t in m.targets) or "(none: reported only)"
    panel = m.panel
    return (
        m.action,
        f"{panel.rps:,.1f}",
        f"{panel.p50_ms:.2f}",
        f"{panel.p99_ms:.2f}",
        f"{m.bare.rps:,.1f}",
        f"{m.ratio:.2f}",
        panel.failed,
        f"{_us(panel.server_cpu_us)}/{_us(m.bare.server_cpu_us)}",
        target,
        verdict,
    )


def _us(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}"


def _code_version() -> str:
    """The commit measured, and whether the working tree differed from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=BENCH_DIR.parent, capture_output=True, text=True
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "smmpanel")
    return commit + (" + uncommitted changes in smmpanel/" if dirty else "")


def _report(
    backend: str,
    data: dataset.DataSet,
    results: list[Measured],
    problems: list[str],
    load: tuple[float, float],
    args: argparse.Namespace,
) -> dict:
    size = data.size
    print()
    print(
        f"== {backend}: {size.services:,} services in {size.categories} categories, "
        f"{size.customers} customers, {size.orders:,} orders ({data.bench_orders:,} the bench "
        f"customer's); wrk -t{loadgen.THREADS} -c{loadgen.CONNECTIONS} --latency, "
        f"{args.duration:g} s per server in {args.rounds} runs taken in turn"
        f"{' (QUICK)' if args.quick else ''}; {args.web_processes} web process(es) =="
    )
    print(format_row(tuple(name for name, _, _ in COLUMNS)))
    for m in results:
        print(format_row(_table_row(m)))
    for m in results:
        if m.orders_created is not None:
            spread = f" over {min(MANY_KEYS, size.customers)} customers' keys" * (
                m.action == "add-200-keys"
            )
            print(
                f"{m.action}: {m.orders_created:,} orders stored during the measured run{spread}, "
                f"{m.panel.checked - m.panel.bad:,} answered as placed before wrk stopped; "
                f"panel CPU {_us(m.cpu_us)} µs per order stored"
            )
    print("audit of the books after the runs: " + ("clean" if not problems else f"{problems[:5]}"))
    print(f"code measured: {_code_version()}; CPU µs/reply: panel/bare process, from /proc")
    print(
        f"load average (1 min): {load[0]:.1f} at start, {load[1]:.1f} at end; {os.cpu_count()} CPUs"
    )
    return {
        "backend": backend,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": _code_version(),
        "quick": args.quick,
        "profiled": args.profile,
        "web_processes": args.web_processes,
        "wrk": {
            "threads": loadgen.THREADS,
            "connections": loadgen.CONNECTIONS,
            "seconds": args.duration,
            "rounds": args.rounds,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_start_end": load,
        },
        "data": {
            "services": size.services,
            "categories": size.categories,
            "customers": size.customers,
            "orders": size.orders,
            "bench_customer_orders": data.bench_orders,
        },
        "results": [m.as_dict() for m in results],
        "audit_problems": problems,
    }


def write_results(report: dict, actions: list[str] | None) -> Path:
    """bench/results/api-<backend>.json (a subset of actions goes to a file of its own)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    subset = "-" + "-".join(actions) if actions else ""
    processes = f"-{report['web_processes']}-processes" * (report["web_processes"] > 1)
    path = RESULTS_DIR / f"api-{report['backend']}{subset}{processes}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="API v2 speed, beside a bare baseline.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of wrk per server and action"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="runs the duration is split into (whole seconds each), the panel's and the "
        "baseline's in turn",
    )
    parser.add_argument("--quick", action="store_true", help="3 s per server: a smoke check")
    default = dataset.Size()
    for name in ("orders", "services", "customers"):
        parser.add_argument(
            f"--{name}",
            type=int,
            default=None,
            help=f"the data set's {name} (default {getattr(default, name):,})",
        )
    parser.add_argument(
        "--actions",
        type=lambda s: s.split(","),
        default=None,
        help="comma-separated subset of: " + ",".join(a.name for a in ACTIONS),
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record py-spy profiles of the panel to bench/results/",
    )
    parser.add_argument(
        "--web-processes",
        type=int,
        default=1,
        help="`serve --workers N`: how add and status scale with processes (CPU summed over them)",
    )
    args = parser.parse_args()
    unknown = set(args.actions or ()) - {a.name for a in ACTIONS}
    if unknown:
        parser.error(f"unknown actions: {', '.join(sorted(unknown))}")
    if args.profile and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy: {Path(sys.executable).parent}/pip install py-spy")
    if args.quick:
        args.duration, args.rounds = min(args.duration, 3.0), min(args.rounds, 3)
    each = max(1, round(args.duration / max(1, args.rounds)))  # wrk takes whole seconds
    args.rounds = max(1, args.rounds)
    args.duration = float(each * args.rounds)
    return args


def main() -> None:
    args = parse_args()
    loadgen.require_wrk()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        path = write_results(bench_backend(backend, args), args.actions)
        print(f"results: {path.relative_to(BENCH_DIR.parent)}\n")


if __name__ == "__main__":
    main()
