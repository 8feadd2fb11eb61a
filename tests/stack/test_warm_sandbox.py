"""The analyze function warms the local analyst's sandbox in its serving process, and still exits cleanly.

functions-framework imports the entry module in gunicorn's master and serves from a forked worker; the
fork server must be the worker's, start without any request, not start for the Gemini analyst, and
go away when the function is stopped.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.local_stack import free_port
from tests.stack.conftest import wait_for

pytestmark = pytest.mark.emulators
ROOT = Path(__file__).resolve().parents[2]


def ppid(pid: int) -> int:
    # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the last ")"
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(live, env: dict[str, str]):
    port = free_port()
    child = live.stack.start_function(
        f"analyze-warm-{port}", "analyze", port, live.stack.functions_environment() | env
    )
    return child


def stop(child) -> int:
    if child.process.poll() is None:
        os.killpg(child.process.pid, signal.SIGTERM)
    return child.process.wait(timeout=15)


def lines(live, child, message: str) -> list[dict]:
    return [e for e in live.log_lines(child.name) if str(e.get("message", "")).startswith(message)]


def test_the_local_analyst_sandbox_is_warmed_in_the_worker_and_goes_away_with_it(live):
    child = start(live, {"ANALYST": "local"})
    try:
        wait_for(lambda: lines(live, child, "sandbox warmed up"), 60, "the warm-up line (no request sent)")
        [started] = lines(live, child, "sandbox fork server started")
        server = int(re.search(r"pid (\d+)", started["message"]).group(1))
        worker = ppid(server)
        assert (
            worker != child.process.pid and ppid(worker) == child.process.pid
        )  # the worker's, not the master's
    finally:
        t = time.monotonic()
        stop(child)
        assert time.monotonic() - t < 10
    wait_for(lambda: not alive(server) or None, 10, "the fork server to exit with its function")


def test_no_warm_up_when_gemini_will_analyse(live):
    child = start(live, {"ANALYST": "auto", "GEMINI_API_KEY": "test-key"})
    try:
        [skipped] = wait_for(lambda: lines(live, child, "sandbox not warmed up"), 60, "the skip line")
        assert skipped["analyst"] == "gemini"
        assert not lines(live, child, "sandbox fork server started")
    finally:
        stop(child)


@pytest.mark.parametrize("function", ["analyze", "report"])
def test_importing_the_entry_module_imports_nothing_heavy_and_starts_no_thread(function):
    code = (
        "import importlib.util, sys, threading\n"
        f"spec = importlib.util.spec_from_file_location('main', {str(ROOT / f'functions/{function}/main.py')!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "heavy = [m for m in ('shared.sandbox', 'shared.analysts.gemini', 'google.genai', 'duckdb',"
        " 'matplotlib', 'pandas', 'numpy', 'google.cloud.storage') if m in sys.modules]\n"
        "print(heavy, threading.active_count())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")} | {
        "PYTHONPATH": str(ROOT),
        "ANALYST": "local",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[] 1", out.stdout + out.stderr
