"""Hostile generated code through the sandbox's public API: contained, failed with a reason, and the
run goes on (a failing cell never stops the cells after it; only a killed process ends the session).

Each snippet is what a compromised or confused model could write. The parent process holds fake
credentials while these run, so a leak would show up in the cells' output.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from shared.analysts.base import Outcome
from shared.sandbox import SandboxLimits, run_cells

SECRET = "hardening-secret-value-7f3a"
LIMITS = SandboxLimits(cell_timeout_s=10, total_timeout_s=60, memory_mb=1024, output_chars=20_000)

# name -> (code, words one of which the failure reason must contain)
HOSTILE = {
    "tcp connect": (
        "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)",
        ("blocked", "unreachable", "refused"),
    ),
    "udp to the internet": (
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b'x', ('8.8.8.8', 53))",
        ("blocked", "unreachable"),
    ),
    "http request": (
        "import urllib.request\nurllib.request.urlopen('http://169.254.169.254/computeMetadata/v1/', timeout=2)",
        ("blocked", "unreachable", "urlopen error"),
    ),
    "credentials file": (
        "import os\nprint(open(os.environ['GOOGLE_APPLICATION_CREDENTIALS']).read())",
        ("KeyError",),
    ),
    "environment dump": (
        (
            "import os\nprint(dict(os.environ))\nassert 'GEMINI_API_KEY' not in os.environ, 'leak'\n"
            "raise RuntimeError('environment holds ' + ','.join(sorted(os.environ)))"
        ),
        ("environment holds HOME,LANG,MPLBACKEND,MPLCONFIGDIR,PATH",),
    ),
    "parent environment via /proc": (
        "print(open(f'/proc/{__import__(\"os\").getppid()}/environ').read())",
        ("blocked by the sandbox",),
    ),
    "fork bomb": ("import os\nwhile True:\n    os.fork()", ("blocked by the sandbox: os.fork",)),
    "shell out": ("import os\nos.system('curl http://example.com')", ("blocked by the sandbox",)),
    "subprocess bomb": (
        "import subprocess\nwhile True:\n    subprocess.Popen(['sleep', '100'])",
        ("blocked by the sandbox",),
    ),
    "allocate 10 GB": ("block = bytearray(10 * 1024**3)", ("MemoryError",)),
    "write 10 GB": (
        "with open('big.bin', 'wb') as fh:\n    for _ in range(10 * 1024):\n        fh.write(b'0' * 1024 * 1024)",
        ("file-size limit",),
    ),
    "read /etc/passwd": ("print(open('/etc/passwd').read())", ("blocked by the sandbox",)),
    "read the repository": (
        f"print(open({os.path.abspath(__file__)!r}).read())",
        ("blocked by the sandbox",),
    ),
    "list the root": ("import os\nprint(os.listdir('/'))", ("blocked by the sandbox",)),
    "escape by relative path": (
        "print(open('../../../../etc/hostname').read())",
        ("blocked by the sandbox",),
    ),
    "write outside": ("open('/tmp/planted-by-sandbox', 'w').write('x')", ("blocked by the sandbox",)),
}


@pytest.fixture
def fake_credentials(monkeypatch, tmp_path):
    key = tmp_path / "service-account.json"
    key.write_text('{"private_key": "' + SECRET + '"}')
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    monkeypatch.setenv("GEMINI_API_KEY", SECRET)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
    return key


def test_every_hostile_snippet_fails_with_a_reason_and_the_next_cell_still_runs(fake_credentials, tally):
    hostile = dict(HOSTILE)
    hostile["credentials by path"] = (
        f"print(open({str(fake_credentials)!r}).read())",
        ("blocked by the sandbox",),
    )
    names = list(hostile)
    cells = ["marker = 'still here'"]
    for name in names:
        cells += [hostile[name][0], "print(marker)"]
    began = time.monotonic()
    results = run_cells(cells, {"data.csv": b"a,b\n1,2\n"}, LIMITS)
    tally.hostile_input("hostile code cell", len(names))
    assert time.monotonic() - began < 45
    assert results[0].outcome is Outcome.OK
    for i, name in enumerate(names):
        result, after = results[1 + 2 * i], results[2 + 2 * i]
        assert result.outcome is Outcome.FAILED, (name, result.output[-300:])
        assert any(word in (result.error or "") for word in hostile[name][1]), (name, result.error)
        assert after.outcome is Outcome.OK and after.output == "still here\n", (name, after.error)
    everything = "".join(r.output + (r.error or "") for r in results)
    assert SECRET not in everything
    assert not os.path.exists("/tmp/planted-by-sandbox")


def test_printing_100_mb_is_capped_and_the_session_goes_on(tally):
    began = time.monotonic()
    results = run_cells(["print('y' * 100 * 1024 * 1024)", "print('after')"], {}, LIMITS)
    tally.hostile_input("100 MB of output")
    assert time.monotonic() - began < 20
    assert results[0].outcome is Outcome.OK  # printing is allowed; flooding the report is not
    assert len(results[0].output) < LIMITS.output_chars + 200
    assert "output truncated" in results[0].output
    assert results[1].output == "after\n"


def test_an_infinite_loop_is_killed_at_the_deadline_with_a_reason(tally):
    began = time.monotonic()
    results = run_cells(["while True:\n    pass", "print('never')"], {}, SandboxLimits(cell_timeout_s=1.5))
    tally.hostile_input("infinite loop")
    assert time.monotonic() - began < 8
    assert results[0].outcome is Outcome.DEADLINE_EXCEEDED and "timed out after 1.5 s" in results[0].error
    assert results[1].outcome is Outcome.FAILED and results[1].error.startswith("not run")
    # A new session after the kill works: the caller can go on (what the local analyst does).
    assert run_cells(["print('fresh')"], {}, LIMITS)[0].output == "fresh\n"


def test_a_cpu_burner_that_sleeps_through_signals_is_killed_too(tally):
    code = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"
    began = time.monotonic()
    (result,) = run_cells([code], {}, SandboxLimits(cell_timeout_s=1.5))
    tally.hostile_input("SIGTERM-ignoring loop")
    assert result.outcome is Outcome.DEADLINE_EXCEEDED and time.monotonic() - began < 8


def _runner_processes() -> int:
    out = subprocess.run(["ps", "-e", "-o", "cmd="], capture_output=True, text=True, check=False).stdout
    return sum("_sandbox_runner" in line for line in out.splitlines())


def test_a_ctypes_fork_past_the_audit_hook_is_bounded_by_the_process_limit(tally):
    """ctypes skips the audit hook; RLIMIT_NPROC (or a PID namespace) must still cap the processes.

    Known hole when the sandbox has to stay root (``nobody`` cannot read the interpreter): the kernel
    does not apply RLIMIT_NPROC to root, so only the wall-time kill bounds a fork bomb. 7 doublings
    (up to 128 processes) keep this test harmless on a shared machine.
    """
    code = (
        "import ctypes, os\nlibc = ctypes.CDLL(None)\nmine = os.getpid()\nok = 0\n"
        "for _ in range(7):\n    pid = libc.fork()\n    ok += pid > 0\n"
        "if os.getpid() != mine:\n    os._exit(0)\n"
        "print('forks', ok)"
    )
    limits = SandboxLimits(cell_timeout_s=10, processes=16)
    before = _runner_processes()
    (result,) = run_cells([code], {}, limits)
    tally.hostile_input("ctypes fork")
    time.sleep(0.5)
    assert _runner_processes() <= before  # nothing survives the session
    if any("still root" in i for i in result.isolation):
        pytest.xfail("sandbox stays root here, so RLIMIT_NPROC does not apply (see the report)")
    assert result.outcome is Outcome.FAILED or "forks 7" not in result.output


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_ctypes_cannot_read_the_parents_environment_through_proc(tmp_path, tally, warm):
    """The function process holds its credentials in its startup environment (/proc/<pid>/environ).

    The audit hook refuses Python's open() of that file, but ctypes calls libc directly. A runner that
    must stay root drops every capability, and the function process is non-dumpable, so the kernel
    refuses the read (as it does for a runner that dropped to ``nobody``). Every pid is tried, since in
    warm mode the runner's parent is the clean-environment fork server.
    """
    import json
    import sys

    code = (
        "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
        "found = []\n"
        "for pid in [os.getppid(), *range(1, 1 << 16)]:\n"
        "    fd = libc.open(f'/proc/{pid}/environ'.encode(), 0)\n"
        "    if fd < 0: continue\n"
        "    buf = ctypes.create_string_buffer(1 << 16)\n"
        "    n = libc.read(fd, buf, 1 << 16); libc.close(fd)\n"
        "    if b'" + SECRET + "' in buf.raw[: max(n, 0)]: found.append(pid)\n"
        "print('LEAK' if found else 'no leak', found)\n"
    )
    driver = (
        "import json, sys\nfrom shared.sandbox import SandboxLimits, run_cells\n"
        "(r,) = run_cells([sys.argv[1]], {}, SandboxLimits(cell_timeout_s=10), warm=sys.argv[2] == 'warm')\n"
        "print(json.dumps({'output': r.output, 'error': r.error, 'isolation': r.isolation}))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": root, "GEMINI_API_KEY": SECRET}
    done = subprocess.run(
        [sys.executable, "-c", driver, code, "warm" if warm else "cold"], capture_output=True, text=True, env=env, timeout=60, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    tally.hostile_input("ctypes read of the parent's environment")
    assert "LEAK" not in result["output"], result
