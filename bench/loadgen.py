"""Driving a server with wrk: the Lua script for each request body, and reading wrk's report.

Replies are checked so that a figure from failing requests is never reported as a result:

- small replies: a Lua `response` hook sees every one; one that is not HTTP 200, is empty or
  contains `"error"` counts as bad;
- the big `services` reply: no hook, because handing each ~0.5 MB body to Lua costs wrk about
  three times the CPU of receiving it (680 against 216 µs a reply, measured), on the 2 cores it
  shares with the server. Instead wrk's own count of non-2xx replies, and the bytes read per
  reply, which must be at least the catalogue's length (an error reply is ~30 bytes).

Any socket error (timeouts included) also makes a run invalid.

Beside wrk's figures, the server's own CPU time per reply is read from /proc: on a shared,
noisy machine it says what a reply costs the server even when req/s are depressed by others.
"""

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

WRK = "/usr/bin/wrk"
THREADS, CONNECTIONS = 1, 32
# wrk's default (2 s) drops slower replies from the latency figures and counts them as socket
# errors; with 10 s they are measured (any that still time out make the run invalid).
TIMEOUT = "10s"

COMMON = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function init(args)
  checked, bad, counter = 0, 0, 0
end
"""

CHECK_REPLIES = """\
function response(status, headers, body)
  checked = checked + 1
  if status ~= 200 or #body == 0 or body:find('"error"', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local total_checked, total_bad = 0, 0
  for _, thread in ipairs(threads) do
    total_checked = total_checked + thread:get("checked")
    total_bad = total_bad + thread:get("bad")
  end
  io.write(string.format("BENCH_CHECKED %d\\nBENCH_BAD %d\\n", total_checked, total_bad))
end
"""

STATIC_BODY = 'wrk.body = "{body}"\n'

# A body made per request: the key of one of many customers in turn, and for `add` a new link
# each time, so each request is a new order (a run tag, the thread, a counter).
VARYING_BODY = """\
local keys = {{{keys}}}
function request()
  counter = counter + 1
  local key = keys[(counter + thread_id) % #keys + 1]
  return wrk.format(nil, nil, nil, "key=" .. key .. "&{body}"{link})
end
"""
NEW_LINK = ' .. "&link=https%3A%2F%2Finstagram.com%2Fp%2F{tag}-" .. thread_id .. "-" .. counter'


@dataclass
class Run:
    """One wrk run, as wrk reported it."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    bytes_read: int
    checked: int  # replies the Lua hook saw (0 without one)
    bad: int  # of those, not HTTP 200 or with "error" in the body
    non_2xx: int
    socket_errors: int
    min_reply_bytes: int = 0  # without a hook: what each reply must weigh at least
    server_cpu_us: float | None = None  # the server process's CPU time per reply

    @property
    def valid(self) -> bool:
        return (
            self.requests > 0
            and self.bad == 0
            and self.non_2xx == 0
            and self.socket_errors == 0
            and self.bytes_read >= self.requests * self.min_reply_bytes * 0.99
        )

    @property
    def failed(self) -> int:
        return self.bad + self.non_2xx + self.socket_errors

    def as_dict(self) -> dict:
        return {**asdict(self), "failed": self.failed, "valid": self.valid}


def combined(runs: list[Run]) -> Run:
    """Runs of one server taken in turn with another's, as one: counts and time summed, the
    CPU per reply over all of them, the latencies of the middle run (percentiles of separate
    runs cannot be merged)."""
    requests, seconds = sum(r.requests for r in runs), sum(r.seconds for r in runs)
    by_latency = sorted(runs, key=lambda r: r.p50_ms)
    middle = by_latency[len(by_latency) // 2]
    cpu = [r.server_cpu_us * r.requests for r in runs if r.server_cpu_us is not None]
    return Run(
        requests=requests,
        seconds=seconds,
        rps=requests / seconds if seconds else 0.0,
        p50_ms=middle.p50_ms,
        p99_ms=middle.p99_ms,
        bytes_read=sum(r.bytes_read for r in runs),
        checked=sum(r.checked for r in runs),
        bad=sum(r.bad for r in runs),
        non_2xx=sum(r.non_2xx for r in runs),
        socket_errors=sum(r.socket_errors for r in runs),
        min_reply_bytes=runs[0].min_reply_bytes,
        server_cpu_us=round(sum(cpu) / requests, 1) if len(cpu) == len(runs) and requests else None,
    )


def write_script(
    directory: Path,
    name: str,
    body: str,
    keys: list[str],
    *,
    check_replies: bool = True,
    link_tag: str | None = None,
) -> Path:
    """A Lua script POSTing the urlencoded `body` with one of `keys` (in turn, if several),
    plus a new link per request if `link_tag` is given. One key and no link: a static body,
    which costs wrk least."""
    script = COMMON + (CHECK_REPLIES if check_replies else "")
    if len(keys) == 1 and link_tag is None:
        script += STATIC_BODY.format(body=f"key={quote(keys[0])}&{body}")
    else:
        script += VARYING_BODY.format(
            keys=", ".join(f'"{quote(key)}"' for key in keys),
            body=body,
            link="" if link_tag is None else NEW_LINK.format(tag=link_tag),
        )
    path = directory / f"{name}.lua"
    path.write_text(script)
    return path


def require_wrk() -> None:
    """Stop before any data is built when the load generator is missing."""
    if not Path(WRK).exists():
        raise SystemExit(f"{WRK} is missing: install it (apt-get install wrk), then run again")


def run_wrk(
    url: str, script: Path, seconds: float, min_reply_bytes: int = 0, server_pid: int | None = None
) -> Run:
    command = [
        WRK,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        TIMEOUT,
        "-s",
        str(script),
        url,
    ]
    cpu_before = cpu_seconds(server_pid)
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    cpu_after = cpu_seconds(server_pid)
    run = parse_report(result.stdout, min_reply_bytes)
    if cpu_before is not None and cpu_after is not None and run.requests:
        run.server_cpu_us = round((cpu_after - cpu_before) / run.requests * 1e6, 1)
    return run


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time so far of a process and its live descendants (Linux: a server
    started with several web processes works in its children), or None."""
    if pid is None or _stat_fields(pid) is None:
        return None
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in _tree_stats(pid))
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _tree_stats(root: int) -> list[list[str]]:
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            stats[int(entry.name)] = fields
    tree, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, fields in stats.items() if int(fields[1]) == parent]
        tree += children
        frontier += children
    return [stats[pid] for pid in tree if pid in stats]


def parse_report(report: str, min_reply_bytes: int = 0) -> Run:
    requests, seconds, unit, size, size_unit = _search(
        r"(\d+) requests in ([\d.]+)(ms|s|m), ([\d.]+)(B|KB|MB|GB|TB) read", report
    )
    return Run(
        requests=int(requests),
        seconds=float(seconds) * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit],
        bytes_read=int(float(size) * 1024 ** ["B", "KB", "MB", "GB", "TB"].index(size_unit)),
        rps=float(_first(r"Requests/sec:\s+([\d.]+)", report)),
        p50_ms=_milliseconds(_first(r"^\s+50%\s+(\S+)", report)),
        p99_ms=_milliseconds(_first(r"^\s+99%\s+(\S+)", report)),
        checked=int(_first(r"BENCH_CHECKED (\d+)", report, default="0")),
        bad=int(_first(r"BENCH_BAD (\d+)", report, default="0")),
        non_2xx=int(_first(r"Non-2xx or 3xx responses: (\d+)", report, default="0")),
        socket_errors=sum(
            int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", report)
        ),
        min_reply_bytes=min_reply_bytes,
    )


def _search(pattern: str, report: str) -> tuple[str, ...]:
    match = re.search(pattern, report, re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk's report has no {pattern!r}:\n{report}")
    return match.groups()


def _first(pattern: str, report: str, default: str | None = None) -> str:
    if default is not None and re.search(pattern, report, re.MULTILINE) is None:
        return default
    return _search(pattern, report)[0]


def _milliseconds(text: str) -> float:
    value, unit = _search(r"^([\d.]+)(us|ms|s|m)$", text)
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]
