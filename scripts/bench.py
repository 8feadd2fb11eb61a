"""Benchmarks that print figures (`make bench`); no pass/fail, no timed tests.

Each figure is measured on data generated here, as whole processes (what a user waits for), and
reported as the median of several runs with the min–max range, since machines are noisy.

  analyze-10MB  `python -m scripts.analyze <10 MB CSV>` end to end (read, profile, local analyst in the
                sandbox, charts, report): wall time and peak RSS of the largest single process.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.make_samples import retail_orders

REPO = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


@dataclass
class Run:
    wall_s: float
    peak_rss_mib: float


def run_process(argv: list[str], cwd: Path) -> Run:
    """Run a command to completion; peak RSS is the largest of it and its reaped children."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    return Run(wall, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def csv_of_size(path: Path, target_bytes: int) -> Path:
    """A realistic order log of at least ``target_bytes`` (seeded: the same file every time)."""
    rows = max(1000, target_bytes // 60)
    while True:
        text = retail_orders(target_rows=rows)
        if len(text) >= target_bytes:
            path.write_text(text)
            return path
        rows = int(rows * target_bytes / len(text) * 1.02) + 1


def summary(values: list[float], unit: str, digits: int = 2) -> str:
    return (
        f"median {statistics.median(values):.{digits}f} {unit} "
        f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})"
    )


def bench_analyze(work: Path, runs: int) -> None:
    data = csv_of_size(work / "orders_10mb.csv", 10 * 1000 * 1000)
    size_mb = data.stat().st_size / 1e6
    results = []
    for i in range(runs + 1):  # the first run warms the page cache and is not counted
        out = work / f"out{i}"
        run = run_process([sys.executable, "-m", "scripts.analyze", str(data), "--out", str(out)], REPO)
        if i:
            results.append(run)
    print(f"analyze-10MB: {size_mb:.1f} MB CSV, {sum(1 for _ in data.open()) - 1:,} rows, local analyst")
    print(f"  wall time  {summary([r.wall_s for r in results], 's')}")
    print(f"  peak RSS   {summary([r.peak_rss_mib for r in results], 'MiB', 0)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="counted runs per figure (default 5)")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    with tempfile.TemporaryDirectory(prefix="csv-insights-bench-") as tmp:
        bench_analyze(Path(tmp), args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
