"""How fast the panel's web pages answer, beside a bare Starlette baseline measured in the same run.

Run by hand (never by pytest), from the project's root:

    .venv/bin/python bench/pages.py                        # both backends, 10 s per run
    .venv/bin/python bench/pages.py --backend sqlite --duration 5
    .venv/bin/python bench/pages.py --pages /funds,/admin --profile   # py-spy the panel
    # the issue's data set, and each page's CPU per reply there over the same page's at 100,000
    .venv/bin/python bench/pages.py --orders 1000000 --services 5000 --customers 10000 \
        --compare-orders 100000

For each backend it:

1. builds a fresh database with bench/dataset.py's data set (by default 2,000 services, 200
   customers, 100,000 orders, or the sizes --services, --customers and --orders give; the
   benchmark customer holds 5% of the orders and their ledger lines), gives that customer a
   password and adds an operator;
2. starts the panel (`python -m smmpanel serve --no-worker`, as bench/api.py does), signs the
   customer in at /signin and the operator at /admin/signin as a browser would (CSRF token and
   all), and fetches each page once with the session cookie: it must answer 200, not a
   redirect to a sign-in page;
3. saves those pages' HTML and starts the bare baseline (bench/baseline.py), which answers
   `GET /html/<page>` with the very same bytes: the floor for serving a page of that size;
4. drives each page, then its bare copy, with wrk (`-t1 -c32 --latency`, the cookie in a Lua
   script, bench/loadgen.py) after a short warm-up, and prints a table (req/s, p50, p99, × bare,
   body size, CPU time per reply of each server) with each page's verdict against the targets
   (≥ 100 req/s, p99 ≤ 500 ms, ≤ 150 KB). A run with a reply that is not 2xx, a socket
   error, or fewer bytes than the page per reply (a redirect to sign-in weighs ~200) is INVALID;
5. with --compare-orders N, does it all again with N orders (the same services and customers)
   and prints each page's CPU per reply at --orders over its CPU at N: the target is ≤ 1.5×, a
   page whose cost does not grow with the orders.

Results go to bench/results/pages-<backend>.json (the smaller run and the ratios under
"compared_with" and "cpu_growth"). Read the ratios and CPU per reply first: the
machine is shared and has 2 cores that wrk, the server and PostgreSQL split.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import api
import dataset
import httpx
import loadgen

from smmpanel.accounts.operators import create_operator
from smmpanel.accounts.passwords import hash_password
from smmpanel.accounts.service import set_customer_password
from smmpanel.db import Database
from smmpanel.db.migrate import upgrade

PASSWORD = "bench pages password"
OPERATOR_NAME = "bench-operator"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
# The targets (docs/design.md): below either, a page is flagged SLOW; over the size, BIG; and with
# --compare-orders, GROWS when its CPU per reply at the larger size passes this many times the
# same page's at the smaller.
SLOW_RPS, SLOW_P99_MS = 100.0, 500.0
BIG_KB = 150.0
GROWTH = 1.5


@dataclass(frozen=True)
class Page:
    path: str
    operator: bool = False  # signed in as the operator, else as the customer

    @property
    def slug(self) -> str:
        """The page's name for files and the baseline's route: /orders?page=40 -> orders-page-40."""
        return re.sub(r"[^a-z0-9]+", "-", self.path.lower()).strip("-")


PAGES = (
    Page("/dashboard"),
    Page("/orders"),
    Page("/orders?page=40"),
    Page("/order/new"),
    Page("/funds"),
    Page("/api"),
    Page("/services"),
    Page("/admin", operator=True),
    Page("/admin/orders", operator=True),
    Page("/admin/customers", operator=True),
    Page("/admin/catalog", operator=True),
)

GET_SCRIPT = """\
wrk.method = "GET"
wrk.headers["Cookie"] = "{cookie}"
"""


@dataclass
class Measured:
    page: Page
    body_bytes: int
    panel: loadgen.Run
    bare: loadgen.Run

    @property
    def ratio(self) -> float:
        return self.panel.rps / self.bare.rps if self.bare.rps else 0.0

    @property
    def verdict(self) -> str:
        if self.panel.requests == 0:
            return "SLOW (no reply finished within the run)"
        if not self.panel.valid:
            return "INVALID (failed replies)"
        if not self.bare.valid:
            return "INVALID (the baseline's replies failed)"
        misses = []
        if self.panel.rps < SLOW_RPS or self.panel.p99_ms > SLOW_P99_MS:
            misses.append(f"SLOW (< {SLOW_RPS:.0f} req/s or p99 > {SLOW_P99_MS:.0f} ms)")
        if self.body_bytes / 1024 > BIG_KB:
            misses.append(f"BIG (> {BIG_KB:.0f} KB)")
        return ", ".join(misses) or "ok"

    def as_dict(self) -> dict:
        return {
            "page": self.page.path,
            "body_bytes": self.body_bytes,
            "panel": self.panel.as_dict(),
            "bare": self.bare.as_dict(),
            "ratio": round(self.ratio, 3),
            "verdict": self.verdict,
        }


# --- accounts and sessions ----------------------------------------------------------------


async def add_accounts(database_url: str, customer_id: int) -> None:
    """A password for the data set's benchmark customer, and an operator."""
    password_hash = await hash_password(PASSWORD)
    db = Database(database_url, pool_size=1)
    try:
        async with db.write() as conn:
            await set_customer_password(conn, customer_id, password_hash)
            await create_operator(conn, OPERATOR_NAME, password_hash)
    finally:
        await db.dispose()


def sign_in(base_url: str, sign_in_path: str, name: str) -> str:
    """Sign in as a browser would; the Cookie header that browser then sends."""
    with httpx.Client(base_url=base_url, timeout=30, follow_redirects=False) as browser:
        form = browser.get(sign_in_path)
        token = CSRF_INPUT.search(form.text)
        if form.status_code != 200 or token is None:
            raise RuntimeError(f"{sign_in_path}: no sign-in form ({form.status_code})")
        fields = {"csrf_token": token.group(1), "name": name, "password": PASSWORD}
        reply = browser.post(sign_in_path, data=fields)
        if reply.status_code != 303:
            raise RuntimeError(f"{sign_in_path} refused {name}: {reply.status_code}")
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies.jar)


def fetch(base_url: str, page: Page, cookie: str) -> bytes:
    """The page's HTML, which must come with a 200: a redirect means the session is not seen."""
    reply = httpx.get(base_url + page.path, headers={"Cookie": cookie}, timeout=30)
    if reply.status_code != 200:
        where = reply.headers.get("location", "")
        raise RuntimeError(f"{page.path} answered {reply.status_code} {where}".rstrip())
    return reply.content


# --- measuring ----------------------------------------------------------------------------


def wait_until_idle(pid: int, timeout: float = 120) -> None:
    """Until the server has finished the requests wrk left in flight when it stopped: a slow
    page's leftovers would otherwise run during the next measurement."""
    deadline = time.monotonic() + timeout
    before = loadgen.cpu_seconds(pid)
    while before is not None and time.monotonic() < deadline:
        time.sleep(0.25)
        after = loadgen.cpu_seconds(pid)
        if after is None or after - before < 0.01:
            return
        before = after


@dataclass
class Session:
    """What every page's measurement on one backend shares."""

    backend: str
    panel_url: str
    bare_url: str
    panel_pid: int
    bare_pid: int
    scripts: Path
    seconds: float
    warmup: float
    profile: bool


def measure(session: Session, page: Page, cookie: str, body_bytes: int) -> Measured:
    script = session.scripts / f"{page.slug}.lua"
    script.write_text(GET_SCRIPT.format(cookie=cookie))

    def wrk(url: str, seconds: float, pid: int) -> loadgen.Run:
        run = loadgen.run_wrk(url, script, seconds, body_bytes, pid)
        wait_until_idle(pid)
        return run

    panel_url = session.panel_url + page.path
    wrk(panel_url, session.warmup, session.panel_pid)
    if session.profile:
        name = f"{session.backend}-page-{page.slug}"
        with api.profiling(session.panel_pid, session.seconds, name):
            panel = wrk(panel_url, session.seconds, session.panel_pid)
    else:
        panel = wrk(panel_url, session.seconds, session.panel_pid)
    bare_url = f"{session.bare_url}/html/{page.slug}"
    wrk(bare_url, session.warmup, session.bare_pid)
    bare = wrk(bare_url, session.seconds, session.bare_pid)
    return Measured(page, body_bytes, panel, bare)


def data_size(args: argparse.Namespace, orders: int | None = None) -> dataset.Size:
    """The data set the options ask for; the defaults of dataset.Size for what they leave out."""
    chosen = {
        "orders": orders if orders is not None else args.orders,
        "services": args.services,
        "customers": args.customers,
    }
    return dataset.Size(**{name: value for name, value in chosen.items() if value is not None})


def bench_backend(backend: str, args: argparse.Namespace, size: dataset.Size) -> dict:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="smmpanel-bench-pages-") as tmp:
        tmp_dir = Path(tmp)
        url = api.create_database(backend, tmp_dir)
        try:
            upgrade(url)
            started = time.monotonic()
            data = asyncio.run(dataset.build(url, size))
            asyncio.run(add_accounts(url, data.customer_id))
            print(
                f"{backend}: data set of {size.orders:,} orders built in "
                f"{time.monotonic() - started:.1f} s"
            )
            results = _measure_all(backend, url, tmp_dir, args)
        finally:
            api.drop_database(backend, url)
    load = (load_before, os.getloadavg()[0])
    return _report(backend, data, results, load, args)


def _measure_all(backend: str, url: str, tmp_dir: Path, args: argparse.Namespace) -> list[Measured]:
    chosen = [page for page in PAGES if not args.pages or page.path in args.pages]
    panel_port, bare_port = api.free_port(), api.free_port()
    panel_command, panel_env = api.panel_command(panel_port), api.panel_env(url)
    with api.running("panel", panel_command, panel_port, tmp_dir, panel_env) as panel:
        panel_url = f"http://127.0.0.1:{panel_port}"
        cookies = {
            False: sign_in(panel_url, "/signin", "bench"),
            True: sign_in(panel_url, "/admin/signin", OPERATOR_NAME),
        }
        html_dir = tmp_dir / "html"
        html_dir.mkdir()
        sizes = {}
        for page in chosen:
            body = fetch(panel_url, page, cookies[page.operator])
            (html_dir / f"{page.slug}.html").write_bytes(body)
            sizes[page] = len(body)
        print(f"{backend}: panel pid {panel.pid}; every page answered 200 when signed in")
        baseline = [sys.executable, str(api.BENCH_DIR / "baseline.py")]
        baseline += ["--port", str(bare_port), "--pages-dir", str(html_dir)]
        with api.running("baseline", baseline, bare_port, tmp_dir, {}) as bare:
            scripts = tmp_dir / "lua"
            scripts.mkdir()
            session = Session(
                backend=backend,
                panel_url=panel_url,
                bare_url=f"http://127.0.0.1:{bare_port}",
                panel_pid=panel.pid,
                bare_pid=bare.pid,
                scripts=scripts,
                seconds=args.duration,
                warmup=min(api.WARMUP_SECONDS, args.duration),
                profile=args.profile,
            )
            return [measure(session, page, cookies[page.operator], sizes[page]) for page in chosen]


# --- reporting ----------------------------------------------------------------------------

COLUMNS = (
    ("page", 17, "<"),
    ("req/s", 8, ">"),
    ("p50 ms", 7, ">"),
    ("p99 ms", 7, ">"),
    ("bare req/s", 10, ">"),
    ("× bare", 6, ">"),
    ("body KB", 7, ">"),
    ("failed", 6, ">"),
    ("CPU µs/reply", 12, ">"),
    ("verdict", 0, "<"),
)


def _table_row(m: Measured) -> tuple:
    panel = m.panel
    cpu = f"{_us(panel.server_cpu_us)}/{_us(m.bare.server_cpu_us)}"
    return (
        m.page.path,
        f"{panel.rps:,.1f}",
        f"{panel.p50_ms:.2f}",
        f"{panel.p99_ms:.2f}",
        f"{m.bare.rps:,.1f}",
        f"{m.ratio:.2f}",
        f"{m.body_bytes / 1024:.1f}",
        panel.failed,
        cpu,
        m.verdict,
    )


def _us(value: float | None) -> str:
    return "?" if value is None else f"{value:,.0f}"


def _report(
    backend: str,
    data: dataset.DataSet,
    results: list[Measured],
    load: tuple[float, float],
    args: argparse.Namespace,
) -> dict:
    size = data.size
    print()
    print(
        f"== {backend}: {size.services:,} services, {size.customers:,} customers, "
        f"{size.orders:,} orders ({data.bench_orders:,} the signed-in customer's); "
        f"wrk -t{loadgen.THREADS} -c{loadgen.CONNECTIONS} -d{args.duration:g}s --latency =="
    )
    print(api.format_row(tuple(name for name, _, _ in COLUMNS), COLUMNS))
    for m in results:
        print(api.format_row(_table_row(m), COLUMNS))
    code = api._code_version()
    print(f"code measured: {code}; CPU µs/reply: panel/bare process, from /proc")
    print(
        f"load average (1 min): {load[0]:.1f} at start, {load[1]:.1f} at end; {os.cpu_count()} CPUs"
    )
    return {
        "backend": backend,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": code,
        "profiled": args.profile,
        "wrk": {
            "threads": loadgen.THREADS,
            "connections": loadgen.CONNECTIONS,
            "seconds": args.duration,
        },
        "machine": {"cpus": os.cpu_count(), "load_average_start_end": load},
        "data": {
            "services": size.services,
            "customers": size.customers,
            "orders": size.orders,
            "signed_in_customer_orders": data.bench_orders,
        },
        "results": [m.as_dict() for m in results],
    }


def compare(small: dict, large: dict) -> list[dict]:
    """Each page's CPU per reply at the larger data set over the smaller one's."""
    before = {result["page"]: result for result in small["results"]}
    rows = []
    for result in large["results"]:
        other = before.get(result["page"])
        cpu_large = result["panel"].get("server_cpu_us")
        cpu_small = other["panel"].get("server_cpu_us") if other else None
        ratio = cpu_large / cpu_small if cpu_large and cpu_small else None
        verdict = "?" if ratio is None else ("ok" if ratio <= GROWTH else f"GROWS (> {GROWTH}×)")
        rows.append(
            {
                "page": result["page"],
                "cpu_us_small": cpu_small,
                "cpu_us_large": cpu_large,
                "ratio": None if ratio is None else round(ratio, 2),
                "verdict": verdict,
            }
        )
    return rows


COMPARE_COLUMNS = (
    ("page", 17, "<"),
    ("CPU µs small", 12, ">"),
    ("CPU µs large", 12, ">"),
    ("ratio", 6, ">"),
    ("verdict", 0, "<"),
)


def print_comparison(backend: str, small: dict, large: dict, rows: list[dict]) -> None:
    print(
        f"\n== {backend}: CPU per reply at {large['data']['orders']:,} orders over "
        f"{small['data']['orders']:,} (target ≤ {GROWTH}×) =="
    )
    print(api.format_row(tuple(name for name, _, _ in COMPARE_COLUMNS), COMPARE_COLUMNS))
    for row in rows:
        shown = (
            row["page"],
            _us(row["cpu_us_small"]),
            _us(row["cpu_us_large"]),
            "?" if row["ratio"] is None else f"{row['ratio']:.2f}",
            row["verdict"],
        )
        print(api.format_row(shown, COMPARE_COLUMNS))


def write_results(report: dict, subset: bool) -> Path:
    api.RESULTS_DIR.mkdir(exist_ok=True)
    path = api.RESULTS_DIR / f"pages-{report['backend']}{'-subset' if subset else ''}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Web pages' speed, beside a bare baseline.")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument(
        "--pages",
        type=lambda s: s.split(","),
        default=None,
        help="comma-separated subset of: " + ",".join(p.path for p in PAGES),
    )
    parser.add_argument(
        "--profile", action="store_true", help="record py-spy profiles of the panel"
    )
    default = dataset.Size()
    for name in ("orders", "services", "customers"):
        parser.add_argument(
            f"--{name}",
            type=int,
            default=None,
            help=f"{name} in the data set ({getattr(default, name):,})",
        )
    parser.add_argument(
        "--compare-orders",
        type=int,
        default=None,
        metavar="N",
        help="also measure with N orders (same services and customers) and print each page's "
        f"CPU per reply at --orders over N, against the target of {GROWTH}×",
    )
    args = parser.parse_args()
    unknown = set(args.pages or ()) - {p.path for p in PAGES}
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    if args.profile and not api.PY_SPY.exists():
        parser.error(f"--profile needs py-spy: {Path(sys.executable).parent}/pip install py-spy")
    return args


def main() -> None:
    args = parse_args()
    loadgen.require_wrk()
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        report = bench_backend(backend, args, data_size(args))
        if args.compare_orders is not None:
            small = bench_backend(backend, args, data_size(args, args.compare_orders))
            rows = compare(small, report)
            print_comparison(backend, small, report, rows)
            report = {**report, "compared_with": small, "cpu_growth": rows}
        path = write_results(report, subset=bool(args.pages))
        print(f"results: {path.relative_to(api.BENCH_DIR.parent)}\n")


if __name__ == "__main__":
    main()
