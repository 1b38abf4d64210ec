"""Summarise a py-spy raw profile (collapsed stacks, as `bench/api.py --profile` writes them).

    .venv/bin/python bench/profile_summary.py bench/results/profile-postgresql-add.txt [--top 30]

Prints, as shares of all samples: time by package of the innermost frame (sqlalchemy, asyncpg,
uvicorn, smmpanel...), where the time is spent itself (the innermost frame), and which functions
the time is spent under (inclusive, counted once per stack). Code run inside SQLAlchemy's
greenlets shows as stacks of their own, so inclusive shares of outer frames are lower bounds.
"""

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<name>.*) \((?P<where>[^()]*)\)$")


def read_stacks(path: Path) -> Counter:
    stacks: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def short(frame: str) -> str:
    """`name (path/file.py:line)` as `name (file.py)`: the line varies from sample to sample."""
    match = FRAME.match(frame)
    if match is None:
        return frame
    where = match["where"].rsplit(":", 1)[0]
    package_path = where.split("site-packages/")[-1]
    return f"{match['name']} ({package_path})"


def package(frame: str) -> str:
    """The top-level package (or module) of a frame's file: sqlalchemy, asyncpg, asyncio..."""
    match = FRAME.match(frame)
    if match is None:
        return "?"
    where = match["where"].rsplit(":", 1)[0].split("site-packages/")[-1]
    return where.split("/")[0].removesuffix(".py")


def summarise(stacks: Counter, top: int) -> None:
    total = sum(stacks.values())
    own: Counter = Counter()
    under: Counter = Counter()
    packages: Counter = Counter()
    for stack, count in stacks.items():
        raw = stack.split(";")
        frames = [short(frame) for frame in raw]
        own[frames[-1]] += count
        packages[package(raw[-1])] += count
        for frame in set(frames):
            under[frame] += count
    print(f"{total} samples")
    for title, counter in (
        ("self, by package", packages),
        ("self (innermost frame)", own),
        ("inclusive", under),
    ):
        print(f"\n{title}:")
        for frame, count in counter.most_common(top):
            print(f"  {100 * count / total:5.1f}%  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    summarise(read_stacks(args.profile), args.top)


if __name__ == "__main__":
    main()
