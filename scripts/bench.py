"""Benchmarks that print figures (`make bench`); no pass/fail, no timed tests.

Each figure is measured on data generated here, as whole processes (what a user waits for), and
reported as the median of several runs with the min–max range, since machines are noisy.

  analyze-10MB  `python -m scripts.analyze <10 MB CSV>` end to end (read, profile, local analyst in the
                sandbox, charts, report): wall time and peak RSS of the largest single process.
  profile       the pipeline's read + profile step (`python -m scripts.profile_file`) on synthetic
                10 MB, 100 MB and 1 GB CSVs (a date, 2 categorical, 10 numeric columns) beside the pandas
                baseline (read_csv + describe + quantiles + IQR outliers + corr) on the same files; on
                the largest, also with the analyst's aggregates, and read as a stream on one core (what
                a 1-vCPU analyze function does with a cloud object).
  imports       `python -c "import X"` for each entry module beside the SDKs its path needs, minus a
                bare interpreter start.
  sandbox       one code cell (pandas + pyplot imports, a small frame, one figure): a fresh interpreter
                (cold) beside a fork of the pre-imported server (warm).
  stack         the local stack (emulators + both functions, local analyst): a small CSV from upload
                to report.md, one file at a time (median of 20, after one uncounted run), and then
                200 small files uploaded at once (`make burst`'s check); the two rates per minute and
                their ratio.

`--quick` skips the 1 GB file and the end-to-end runs (analyze-10MB, stack); `--only NAME` runs one
section.
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

from scripts.bench_data import write_synthetic_in_subprocess
from scripts.make_samples import retail_orders

REPO = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


@dataclass
class Run:
    wall_s: float
    peak_rss_mib: float


def run_process(argv: list[str], cwd: Path, env: dict[str, str] | None = None, *, one_core: bool = False) -> Run:
    """Run a command to completion; peak RSS is the largest of it and its reaped children. ``one_core``
    pins it to one processor, as a 1-vCPU function has."""
    started = time.perf_counter()
    pin = (lambda: os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})) if one_core else None
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, preexec_fn=pin
    )
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
    code = (
        "from pathlib import Path; from scripts.bench import csv_of_size; "
        f"csv_of_size(Path({str(work / 'orders_10mb.csv')!r}), 10 * 1000 * 1000)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)  # keeps this process small
    data = work / "orders_10mb.csv"
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


def bench_profile(work: Path, runs: int, sizes: list[int]) -> None:
    """Our profile step beside pandas, both as whole processes on the same file, alternating."""
    env = {**os.environ, "MAX_FILE_BYTES": str(8 * 1024**3)}
    print("profile: whole process, read + profile; pandas = read_csv + describe + quantiles + outliers + corr")
    print(f"  {'file':>8} {'rows':>11}  {'ours (s)':>22} {'pandas (s)':>22}  {'ours peak':>20} {'pandas peak':>20}")
    for target in sizes:
        data = write_synthetic_in_subprocess(work / f"synthetic_{target // 1_000_000}mb.csv", target)
        n = runs if target < 500_000_000 else max(1, min(runs, 3))
        ours, theirs = [], []
        for i in range(n + 1):  # the first pair warms the page cache and is not counted
            a = run_process([sys.executable, "-m", "scripts.profile_file", str(data)], REPO, env)
            b = run_process([sys.executable, "-m", "scripts.profile_file", str(data), "--pandas"], REPO, env)
            if i:
                ours.append(a)
                theirs.append(b)
        rows = sum(1 for _ in data.open()) - 1
        t_ours, t_pd = statistics.median(r.wall_s for r in ours), statistics.median(r.wall_s for r in theirs)
        m_ours = statistics.median(r.peak_rss_mib for r in ours)
        m_pd = statistics.median(r.peak_rss_mib for r in theirs)
        print(
            f"  {data.stat().st_size / 1e6:6.0f}MB {rows:>11,}  {_range([r.wall_s for r in ours]):>22} "
            f"{_range([r.wall_s for r in theirs]):>22}  {_range([r.peak_rss_mib for r in ours], 0, 'MiB'):>20} "
            f"{_range([r.peak_rss_mib for r in theirs], 0, 'MiB'):>20}"
        )
        print(f"  {'':>8} {'':>11}  speed-up {t_pd / t_ours:.2f}x, memory {m_ours / m_pd:.2f} of pandas' (n={n})")
        if target == sizes[-1]:
            bench_large_file_paths(data, n, env)
        if target >= 500_000_000:
            data.unlink()  # a GB of temp space back before the next section


def bench_large_file_paths(data: Path, runs: int, env: dict[str, str]) -> None:
    """The same file as the analyze function sees a large object: with the analyst's aggregates, and read
    as a stream through a pipe on one core (a 1-vCPU function)."""
    variants = {
        "profile + the analyst's aggregates": ([str(data), "--aggregates"], False),
        "profile, streamed, one core": ([str(data), "--stream"], True),
    }
    for label, (args, one_core) in variants.items():
        found = [
            run_process([sys.executable, "-m", "scripts.profile_file", *args], REPO, env, one_core=one_core)
            for _ in range(runs)
        ]
        print(
            f"  {label:<36} {_range([r.wall_s for r in found]):>22} s, "
            f"peak {_range([r.peak_rss_mib for r in found], 0, 'MiB')} (n={runs})"
        )


def _range(values: list[float], digits: int = 2, unit: str = "") -> str:
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]{unit}"


ENTRY_MODULES = {
    # entry module: the SDKs its path needs (imported by the module or by what it calls on a run)
    "functions.analyze.main": ["functions_framework", "google.cloud.storage", "google.cloud.pubsub_v1"],
    "functions.report.main": ["functions_framework", "google.cloud.storage", "google.cloud.pubsub_v1"],
    "shared.pipeline": [],
    "shared.analysts.gemini": ["google.genai"],
    "shared.analysts.local": [],
}
HEAVY = ["pandas", "numpy", "matplotlib.pyplot", "duckdb", "google.genai"]


def import_time(modules: list[str], runs: int) -> list[float]:
    code = "; ".join(f"import {m}" for m in modules) or "pass"
    return [run_process([sys.executable, "-c", code], REPO).wall_s for _ in range(runs)]


def bench_imports(runs: int) -> None:
    runs = max(runs, 5)
    base = statistics.median(import_time([], runs))
    print(f"imports: median of {runs} `python -c 'import ...'`, minus a bare start ({base:.3f} s)")
    for module in HEAVY:
        print(f"  {module:<28} {statistics.median(import_time([module], runs)) - base:6.3f} s")
    for module, sdks in ENTRY_MODULES.items():
        path = REPO / (module.replace(".", "/") + ".py")
        if not path.exists():
            print(f"  {module:<28} (not on this branch)")
            continue
        t_module = statistics.median(import_time([module], runs)) - base
        heavy = run_heavy(module)
        extra = ""
        if sdks:  # in one process: the SDKs first, then what the module adds on top of them
            pairs = [_timed_imports(sdks, module) for _ in range(runs)]
            t_sdks = statistics.median(p[0] for p in pairs)
            t_added = statistics.median(p[1] for p in pairs)
            extra = f"SDKs {t_sdks:.3f} s, then the module +{t_added:.3f} s (+{t_added / t_sdks * 100:.0f}%)"
        print(f"  {module:<28} {t_module:6.3f} s alone  {extra}  heavy modules loaded: {heavy or 'none'}")


def _timed_imports(sdks: list[str], module: str) -> tuple[float, float]:
    code = (
        "import importlib, time\n"
        "t0 = time.perf_counter()\n"
        f"for m in {sdks!r}: importlib.import_module(m)\n"
        "t1 = time.perf_counter()\n"
        f"importlib.import_module({module!r})\n"
        "print(t1 - t0, time.perf_counter() - t1)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    first, second = out.stdout.split()
    return float(first), float(second)


def run_heavy(module: str) -> str:
    code = f"import sys, {module}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return out.stdout.strip()


SANDBOX_CELL = (
    "import pandas as pd\nimport matplotlib.pyplot as plt\n"
    "df = pd.DataFrame({'x': range(100), 'y': range(100)})\nprint(df['y'].sum())\n"
    "df.plot(x='x', y='y', title='t')"
)


def bench_sandbox(runs: int) -> None:
    from shared.sandbox import run_cells, warm_up

    runs = max(runs, 5)
    warm_up()
    results = {}
    for mode in ("cold", "warm"):
        times = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            (result,) = run_cells([SANDBOX_CELL], {"data.csv": b"a\n1\n"}, warm=mode == "warm")
            times.append(time.perf_counter() - started)
            if result.error or not result.images:
                raise SystemExit(f"sandbox cell failed ({mode}): {result.error}")
        results[mode] = times[1:]
    print("sandbox: one cell (pandas + pyplot, a frame, a figure saved as PNG), run_cells wall time")
    for mode, times in results.items():
        print(f"  {mode:<5} {summary(times, 's', 3)}")
    ratio = statistics.median(results["cold"]) / statistics.median(results["warm"])
    print(f"  warm is {ratio:.1f}x faster per cell")


def bench_stack(sequential: int, burst_files: int) -> None:
    """Latency and throughput through the local stack, with scripts/local_stack and scripts/burst."""
    from scripts.burst import csv_bytes, report_name, run_burst
    from scripts.local_stack import LocalStack
    from shared.settings import Settings

    settings = Settings()
    with LocalStack(settings=settings, function_env={"ANALYST": "local"}) as stack:
        storage = stack.storage()
        bucket, reports = storage.bucket(settings.input_bucket), storage.bucket(settings.reports_bucket)
        latencies = []
        for i in range(sequential + 1):  # the first file warms the functions and is not counted
            started = time.perf_counter()
            blob = bucket.blob(f"bench-latency/file-{i:03d}.csv")
            blob.upload_from_string(csv_bytes(i), content_type="text/csv")
            _, name = report_name(settings, blob)
            deadline = time.monotonic() + 120
            while not reports.blob(name).exists():
                if time.monotonic() > deadline:
                    raise SystemExit(f"no report for {blob.name} after 120 s (logs: {stack.log_dir})")
                time.sleep(0.05)
            if i:
                latencies.append(time.perf_counter() - started)
        result = run_burst(storage, stack.subscriber(), settings, settings.project, burst_files, 600)
        if not result.ok:
            raise SystemExit(f"burst incomplete: {result} (logs: {stack.log_dir})")
    size_kb = len(csv_bytes(0)) / 1000
    sequential_rate = 60 * len(latencies) / sum(latencies)
    burst_rate = 60 * burst_files / result.elapsed_s
    print(
        "stack: local stack (fake-gcs-server, Pub/Sub emulator, both functions), local analyst, "
        f"{size_kb:.1f} kB CSVs"
    )
    print(f"  upload → report.md, one at a time  {summary(latencies, 's')}")
    print(f"  sequential rate   {sequential_rate:6.1f} files/min ({len(latencies)} files, each waited for)")
    print(
        f"  burst rate        {burst_rate:6.1f} files/min ({burst_files} uploaded at once, all reports in "
        f"{result.elapsed_s:.0f} s, {result.lost} lost, {result.duplicated} duplicated)"
    )
    print(f"  burst / sequential {burst_rate / sequential_rate:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="counted runs per figure (default 3)")
    parser.add_argument("--quick", action="store_true", help="10 and 100 MB only, no end-to-end run")
    parser.add_argument("--only", choices=["profile", "imports", "sandbox", "analyze", "stack"])
    parser.add_argument("--burst", type=int, default=200, help="files uploaded at once in the stack section")
    args = parser.parse_args(argv)
    print(machine())
    sizes = [10_000_000, 100_000_000] + ([] if args.quick else [1_000_000_000])
    with tempfile.TemporaryDirectory(prefix="csv-insights-bench-") as tmp:
        work = Path(tmp)
        if args.only in (None, "profile"):
            bench_profile(work, args.runs, sizes)
        if args.only in (None, "imports"):
            bench_imports(args.runs)
        if args.only in (None, "sandbox"):
            bench_sandbox(args.runs)
        if args.only == "analyze" or (args.only is None and not args.quick):
            bench_analyze(work, args.runs)
        if args.only == "stack" or (args.only is None and not args.quick):
            bench_stack(20, args.burst)
    return 0


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((line.split()[1] for line in _lines("/proc/meminfo") if line.startswith("MemTotal")), "0")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"machine: {platform.machine()} {cpu}, {os.cpu_count()} cores, {int(mem) / 1024**2:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, load average {load:.1f}"
    )


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


if __name__ == "__main__":
    sys.exit(main())
