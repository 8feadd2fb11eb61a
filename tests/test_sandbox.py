"""The code sandbox: cells run, fail, draw and share state; limits and isolation hold."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.analysts.base import Outcome
from shared.sandbox import PNG_SIGNATURE, RUNNER, SandboxLimits, clean_environment, run_cells

FAST = SandboxLimits(cell_timeout_s=10, total_timeout_s=30, memory_mb=1024)


@pytest.fixture(autouse=True, params=["warm", "cold"])
def mode(request, monkeypatch):
    """Every test runs in both modes: forked from the pre-imported server, and a fresh interpreter."""
    from shared import sandbox

    monkeypatch.setattr(sandbox, "WARM_DEFAULT", request.param == "warm")
    return request.param


def test_cells_share_state_print_and_fail_without_stopping_the_rest():
    results = run_cells(
        [
            "import json\nrows = open('data.csv').read().splitlines()",
            "print(len(rows), rows[1])",
            "def f():\n    return 1 / 0\nf()",
            "print('still here', rows[0])",
        ],
        {"data.csv": b"a,b\n1,2\n3,4\n"},
        FAST,
    )
    assert [r.outcome for r in results] == [Outcome.OK, Outcome.OK, Outcome.FAILED, Outcome.OK]
    assert results[1].output == "3 1,2\n"
    failed = results[2]
    assert failed.error == "ZeroDivisionError: division by zero"
    assert "Traceback" in failed.output and 'File "<cell>", line 2, in f' in failed.output
    assert results[3].output == "still here a,b\n"


def test_a_figure_becomes_a_png_with_its_title_and_is_closed_after_the_cell():
    code = (
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots()\nax.plot([1, 2, 3], [3, 1, 2])\nax.set_title('Revenue by month')\n"
        "fig2 = plt.figure()\nfig2.suptitle('Overall')\n"
    )
    first, second = run_cells([code, "print(len(plt.get_fignums()))"], {}, FAST)
    assert first.outcome is Outcome.OK
    assert [title for _, title in first.images] == ["Revenue by month", "Overall"]
    assert all(png.startswith(PNG_SIGNATURE) for png, _ in first.images)
    assert second.output == "0\n" and second.images == []


def test_output_is_capped_with_a_note():
    (result,) = run_cells(["print('x' * 100_000)"], {}, SandboxLimits(output_chars=1000))
    assert result.outcome is Outcome.OK
    assert result.output.startswith("x" * 1000)
    assert "output truncated: 99,001 more characters" in result.output
    assert len(result.output) < 1100


def test_an_infinite_loop_is_stopped_at_the_cell_deadline_and_later_cells_are_not_run():
    began = time.monotonic()
    results = run_cells(["x = 1", "while True:\n    pass", "print(x)"], {}, SandboxLimits(cell_timeout_s=1.5))
    assert time.monotonic() - began < 6
    assert results[0].outcome is Outcome.OK
    assert results[1].outcome is Outcome.DEADLINE_EXCEEDED and results[1].error == "timed out after 1.5 s"
    assert results[2].outcome is Outcome.FAILED and results[2].error.startswith("not run")
    assert not results[2].ran


def test_the_total_time_budget_stops_the_run():
    results = run_cells(
        ["import time; time.sleep(1.2)", "time.sleep(1.2)", "print('late')"],
        {},
        SandboxLimits(cell_timeout_s=5, total_timeout_s=2),
    )
    assert results[0].outcome is Outcome.OK
    assert results[1].outcome is Outcome.DEADLINE_EXCEEDED
    assert results[2].error.startswith("not run")


def test_a_10_gb_allocation_fails_inside_the_cell_and_the_sandbox_goes_on():
    results = run_cells(["block = bytearray(10 * 1024**3)", "print('alive')"], {}, FAST)
    assert results[0].outcome is Outcome.FAILED and results[0].error.startswith("MemoryError")
    assert results[1].output == "alive\n"


def test_writing_a_huge_file_stops_at_the_file_size_limit():
    code = "with open('big.bin', 'wb') as fh:\n    for _ in range(100):\n        fh.write(b'0' * 1024 * 1024)"
    results = run_cells(
        [code, "import os; print(os.path.getsize('big.bin'))"], {}, SandboxLimits(file_size_mb=8)
    )
    assert results[0].outcome is Outcome.FAILED
    assert results[0].error == "exceeded the file-size limit"
    assert int(results[1].output) <= 8 * 1024 * 1024


def test_the_environment_holds_no_credentials_even_when_the_parent_has_them(monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/secret/key.json")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GEMINI_API_KEY", "secret")
    (result,) = run_cells(["import os\nfor k in sorted(os.environ): print(k, os.environ[k])"], {}, FAST)
    names = [line.split(" ", 1)[0] for line in result.output.splitlines()]
    assert names == ["HOME", "LANG", "MPLBACKEND", "MPLCONFIGDIR", "PATH"]
    assert "secret" not in result.output


def test_the_working_directory_is_private_and_removed_afterwards():
    code = "import os\nprint(os.getcwd())\nprint(sorted(os.listdir('.')))"
    (result,) = run_cells([code], {"data.csv": b"a\n1\n"}, FAST)
    cwd, listing = result.output.splitlines()
    assert cwd != os.getcwd() and Path(cwd).name.startswith("sandbox-")
    assert "data.csv" in listing and "shared" not in listing
    assert not Path(cwd).exists()


def test_reading_the_repository_or_writing_outside_the_working_directory_is_refused(tmp_path):
    repo_file = Path(__file__).resolve()
    outside = tmp_path / "planted.txt"
    results = run_cells(
        [
            f"open({str(repo_file)!r}).read()",
            f"open({str(outside)!r}, 'w').write('x')",
            "import os; os.listdir('/')",
        ],
        {},
        FAST,
    )
    assert all(r.outcome is Outcome.FAILED and "blocked by the sandbox" in r.error for r in results)
    assert not outside.exists()


def test_no_network_connection_to_loopback():
    (result,) = run_cells(
        ["import socket\ns = socket.create_connection(('127.0.0.1', 22), timeout=1)"], {}, FAST
    )
    assert result.outcome is Outcome.FAILED
    assert any(word in result.error for word in ("blocked", "unreachable", "refused"))


def test_the_network_namespace_itself_cuts_loopback_where_the_os_allows():
    """Below the audit hook: a process that only did the runner's namespace step cannot connect."""
    code = (
        "import runpy, socket\n"
        f"ns = runpy.run_path({str(RUNNER)!r})\n"
        "kind = ns['isolate_network']()\n"
        "srv = None\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 1), timeout=1)\n"
        "except OSError as err:\n"
        "    print(kind, '|', err.errno)\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-c", code], check=False, capture_output=True, text=True, timeout=20
    ).stdout
    kind, _, errno_text = out.partition(" | ")
    if not kind.startswith("network namespace"):
        pytest.skip(f"this machine does not allow network namespaces: {out!r}")
    assert int(errno_text) == 101  # ENETUNREACH: the new namespace has only a downed loopback


def test_new_processes_are_refused():
    (result,) = run_cells(["import subprocess\nsubprocess.run(['true'])"], {}, FAST)
    assert result.outcome is Outcome.FAILED and "blocked by the sandbox: subprocess.Popen" in result.error


def test_isolation_in_force_is_reported():
    (result,) = run_cells(["pass"], {}, FAST)
    joined = " ".join(result.isolation)
    assert "limits AS,CPU,FSIZE,NOFILE,NPROC" in joined
    assert "audit hook" in joined
    assert "network namespace" in joined or "socket guard" in joined


def test_clean_environment_names_only_the_allowed_variables():
    assert sorted(clean_environment("/x")) == ["HOME", "LANG", "MPLBACKEND", "MPLCONFIGDIR", "PATH"]


def test_file_names_must_be_plain():
    with pytest.raises(ValueError):
        run_cells(["pass"], {"../escape.csv": b""}, FAST)


def test_marked_result_lines_survive_the_output_cap():
    code = "print('noise ' * 5000)\nprint('@@r {\"key\": 1}')\nprint('more noise ' * 5000)"
    (result,) = run_cells([code], {}, SandboxLimits(output_chars=500, keep_prefix="@@r "))
    lines = result.output.splitlines()
    assert lines[-1] == '@@r {"key": 1}'
    assert "[output truncated:" in result.output and len(result.output) < 700


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to become nobody"
)
def test_an_unprivileged_user_gets_the_network_namespace_through_a_user_namespace():
    code = (
        "import os, runpy, socket\n"
        f"kind = runpy.run_path({str(RUNNER)!r})['isolate_network']()\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 1), timeout=1)\n"
        "except OSError as err:\n"
        "    print(os.getuid(), kind, '|', err.errno)\n"
    )
    out = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-I", "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
        cwd="/",
    ).stdout
    if "user namespace" not in out:
        pytest.skip(f"user namespaces are not available to unprivileged users here: {out!r}")
    assert out.startswith("65534 ") and out.strip().endswith("| 101")


def test_a_run_never_sees_what_an_earlier_run_changed_in_a_preloaded_module():
    first = run_cells(["import pandas\npandas.left_behind = 1\nprint(pandas.left_behind)"], {}, FAST)
    second = run_cells(["import pandas\nprint(hasattr(pandas, 'left_behind'))"], {}, FAST)
    assert (first[0].output, second[0].output) == ("1\n", "False\n")


def test_a_runner_killed_by_a_signal_is_reported_with_its_cause():
    code = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)"
    results = run_cells([code, "print('after')"], {}, FAST)
    assert results[0].error == "crashed (segmentation fault)"
    assert results[1].error.startswith("not run: the sandbox stopped at cell 1")


def test_warm_cells_skip_the_library_imports(mode):
    if mode == "cold":
        pytest.skip("a property of the warm mode")
    run_cells(["pass"], {}, FAST)  # the fork server is up
    (result,) = run_cells(["import sys\nprint('pandas' in sys.modules, 'matplotlib.pyplot' in sys.modules)"], {}, FAST)
    assert result.output == "True True\n"
