"""Runs generated Python code cells in a contained subprocess (the local analyst's code executor).

One fresh interpreter per call runs the cells in order with a shared namespace, like notebook cells, so
pandas and matplotlib import once per file. What contains it:

- a private temporary working directory holding only the given files, removed afterwards;
- a clean environment: PATH, HOME and MPLCONFIGDIR (the temp dir), MPLBACKEND=Agg, LANG; nothing else,
  so no credentials, ``GOOGLE_*`` or ``*_EMULATOR_HOST`` variables reach the code;
- wall time per cell and in total (enforced here: the process group is killed), and kernel limits set
  in the child before any cell runs: RLIMIT_CPU, RLIMIT_AS (memory), RLIMIT_FSIZE, RLIMIT_NOFILE,
  RLIMIT_NPROC, no core dumps; output is capped;
- no network where the OS allows: a fresh network namespace (as root directly, otherwise inside a new
  user namespace); where neither is allowed only the audit hook below refuses sockets;
- as root the child drops to ``nobody`` when ``nobody`` can read the interpreter (RLIMIT_NPROC is not
  enforced for root, and root-only files go out of reach); otherwise it stays root and says so. With
  the parent's own non-root uid, RLIMIT_NPROC is raised by the threads that uid already runs;
- an audit hook (cannot be removed from Python) refuses sockets, new processes, and files outside the
  working directory and the interpreter's folders. It is a second line: ctypes can get past it, the
  kernel limits and namespaces above cannot.

The isolation actually in force is reported in every ``CellResult.isolation``.

Warm mode (the default where ``os.fork`` exists): a fork server (``_sandbox_runner.zygote``), started
once per instance, imports numpy, pandas and matplotlib once; each ``run_cells`` forks a fresh runner
from it, and that child applies every layer above itself before any cell runs, exactly as a cold
runner does. A run therefore sees a fresh process (nothing from earlier runs: the server never runs
cell code), without paying ~1.5 s of imports per file. ``warm=False`` starts a fresh interpreter.

After a cell exceeds its wall time (or the process dies), the process is gone with its namespace: the
remaining cells are reported as not run (``FAILED``, error ``"not run: ..."``). Callers that want to go
on can call ``run_cells`` again with their setup cell first.
"""

from __future__ import annotations

import base64
import ctypes
import json
import logging
import math
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from shared.analysts.base import Outcome

if TYPE_CHECKING:
    from shared.settings import Settings

log = logging.getLogger(__name__)

RUNNER = Path(__file__).with_name("_sandbox_runner.py")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOBODY = 65534
_MAX_LINE_BYTES = 64 * 1024 * 1024  # one answer: capped output plus a few base64 PNGs


@dataclass(frozen=True)
class SandboxLimits:
    cell_timeout_s: float = 30.0
    total_timeout_s: float = 120.0
    memory_mb: int = 1024  # RLIMIT_AS: address space, so it also bounds what libraries reserve
    cpu_s: int | None = None  # RLIMIT_CPU; default: the total wall time, rounded up
    file_size_mb: int = 64  # RLIMIT_FSIZE: largest file the code may write
    open_files: int = 256
    processes: int = 64  # RLIMIT_NPROC (threads count too); only enforced for a non-root uid
    output_chars: int = 20_000  # per cell; the rest is replaced by a note
    keep_prefix: str | None = None  # lines starting with this (machine results) survive the output cap
    image_bytes: int = 5 * 1024 * 1024
    images_per_cell: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> SandboxLimits:
        return cls(
            cell_timeout_s=settings.sandbox_cell_timeout_s,
            total_timeout_s=max(settings.sandbox_cell_timeout_s, min(settings.analysis_deadline_s, 300.0)),
            memory_mb=settings.sandbox_memory_mb,
        )


@dataclass
class CellResult:
    outcome: Outcome
    output: str
    images: list[tuple[bytes, str | None]] = field(default_factory=list)
    error: str | None = None  # short reason: "MemoryError ...", "timed out after 30 s", ...
    duration_s: float = 0.0
    isolation: tuple[str, ...] = ()

    @property
    def ran(self) -> bool:
        return not (self.error or "").startswith("not run")


def clean_environment(workdir: str) -> dict[str, str]:
    """The whole environment of the child: nothing inherited but PATH and the language."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": workdir,
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": workdir,
        "LANG": "C.UTF-8",
    }


WARM_DEFAULT = hasattr(os, "fork") and hasattr(socket, "send_fds")


def run_cells(
    cells: list[str], files: dict[str, bytes], limits: SandboxLimits | None = None, *, warm: bool | None = None
) -> list[CellResult]:
    """Run ``cells`` in order in one fresh sandboxed process whose working directory holds ``files``.

    ``warm`` (default: where fork is available) forks the process from the pre-imported fork server;
    otherwise a new interpreter starts. Returns one result per cell. Never raises for anything the code
    does; raises OSError only when the sandbox itself cannot be set up (no temp space, no interpreter).
    """
    limits = limits or SandboxLimits()
    _protect_this_process()
    workdir = tempfile.mkdtemp(prefix="sandbox-")
    try:
        _write_files(workdir, files)
        return _Session(workdir, limits, WARM_DEFAULT if warm is None else warm).run(cells)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


PR_SET_DUMPABLE = 4


def _protect_this_process() -> None:
    """Make the calling process (a function instance) non-dumpable: its /proc/<pid>/environ, which holds
    the credentials it started with, is then unreadable to a sandbox runner even of the same uid, since
    the runner has no CAP_SYS_PTRACE. Forks (the fork server) inherit this."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _write_files(workdir: str, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise ValueError(f"sandbox file names must be plain names, not {name!r}")
        Path(workdir, name).write_bytes(data)
    _seed_font_cache(workdir)
    if os.geteuid() == 0:
        # The child drops to nobody: it must own its working directory.
        for path in [workdir, *(os.path.join(workdir, n) for n in os.listdir(workdir))]:
            os.chown(path, NOBODY, NOBODY)


# matplotlib rebuilds its font list (~1 s) in every fresh MPLCONFIGDIR; keep the first one built.
_font_cache: list[str] = []


def _font_cache_dir() -> str:
    if not _font_cache:
        _font_cache.append(tempfile.mkdtemp(prefix="sandbox-fontcache-"))
    return _font_cache[0]


def _seed_font_cache(workdir: str) -> None:
    for cached in Path(_font_cache_dir()).glob("fontlist-*.json"):
        shutil.copy(cached, workdir)


def _keep_font_cache(workdir: str) -> None:
    for built in Path(workdir).glob("fontlist-*.json"):
        target = Path(_font_cache_dir(), built.name)
        if not target.exists() and built.stat().st_size < 10 * 1024 * 1024:
            try:
                json.loads(built.read_bytes())  # written by sandboxed code: only keep valid JSON
            except ValueError:
                continue
            shutil.copy(built, target)


class _Forked:
    """A runner forked by the fork server, with the part of ``Popen``'s interface ``_Session`` uses.

    ``pid`` is the monitor's, which leads the run's process group; the exit status arrives as the
    monitor's last line (``_Session._receive`` records it here)."""

    def __init__(self, pid: int, stdin_fd: int, stdout_fd: int) -> None:
        self.pid = pid
        self.stdin = os.fdopen(stdin_fd, "wb")
        self.stdout = os.fdopen(stdout_fd, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            raise subprocess.TimeoutExpired("forked sandbox", timeout or 0)
        return self.returncode

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.returncode is None:
            self.returncode = -signal.SIGKILL


class _ForkServer:
    """The per-instance fork server (``_sandbox_runner.zygote``); started on first use, restarted if it dies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self._lock:
            self._ensure(timeout)

    def _ensure(self, timeout: float) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        home = _font_cache_dir()  # the server builds matplotlib's font list once, here
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(RUNNER), "--zygote", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=home,
                env=clean_environment(home),
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        finally:
            theirs.close()
        ours.settimeout(timeout)
        self._sock = ours
        ready = json.loads(ours.recv(4096) or b"{}")
        if not ready.get("ready"):
            self._close()
            raise OSError("the sandbox fork server did not start")
        log.info("sandbox fork server started (pid %s)", self._proc.pid)

    def spawn(self, workdir: str, env: dict[str, str]) -> _Forked:
        request = json.dumps({"workdir": workdir, "env": env}).encode()
        with self._lock:
            for attempt in (1, 2):
                self._ensure(60.0)
                assert self._sock is not None
                in_r, in_w = os.pipe()
                out_r, out_w = os.pipe()
                try:
                    socket.send_fds(self._sock, [request], [in_r, out_w])
                    reply = json.loads(self._sock.recv(4096) or b"{}")
                except (OSError, ValueError):
                    reply = {}
                finally:
                    os.close(in_r)
                    os.close(out_w)
                if "pid" in reply:
                    return _Forked(int(reply["pid"]), in_w, out_r)
                os.close(in_w)
                os.close(out_r)
                log.warning("sandbox fork server failed (attempt %d); restarting it", attempt)
                self._close()
        raise OSError("the sandbox fork server cannot fork")

    def _close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is not None:
            if self._proc.poll() is None:
                try:
                    os.killpg(self._proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    self._proc.kill()
            self._proc.wait(timeout=5)
            self._proc = None


_fork_server = _ForkServer()


def warm_up() -> None:
    """Start the fork server now (e.g. while a function instance starts) rather than on the first run."""
    _fork_server.start()


class _Session:
    def __init__(self, workdir: str, limits: SandboxLimits, warm: bool = False) -> None:
        self.workdir = workdir
        self.limits = limits
        self.warm = warm
        self.started = time.monotonic()
        self.proc: subprocess.Popen[bytes] | _Forked | None = None
        self.buffer = b""
        self.isolation: tuple[str, ...] = ()

    def run(self, cells: list[str]) -> list[CellResult]:
        results: list[CellResult] = []
        stop_reason: str | None = None
        try:
            stop_reason = self._start()
            for i, code in enumerate(cells):
                if stop_reason:
                    results.append(self._not_run(stop_reason))
                    continue
                result = self._run_one(code)
                results.append(result)
                if self.proc is None or self.proc.poll() is not None:
                    stop_reason = f"not run: the sandbox stopped at cell {i + 1} ({result.error})"
        finally:
            self._stop()
            _keep_font_cache(self.workdir)
        return results

    def _not_run(self, reason: str) -> CellResult:
        return CellResult(Outcome.FAILED, "", error=reason, isolation=self.isolation)

    def _remaining(self) -> float:
        return self.limits.total_timeout_s - (time.monotonic() - self.started)

    def _start(self) -> str | None:
        limits = self.limits
        if self.warm:
            self.proc = _fork_server.spawn(self.workdir, clean_environment(self.workdir))
        else:
            self.proc = self._popen()
        return self._configure(limits)

    def _popen(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            # -I: isolated mode (no PYTHON* variables, no user site, script dir not on sys.path); the
            # venv's site-packages stay visible because sys.executable is the venv's interpreter.
            [sys.executable, "-I", str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.workdir,
            env=clean_environment(self.workdir),
            start_new_session=True,  # own process group: a timeout kills everything it started
            close_fds=True,
        )

    def _configure(self, limits: SandboxLimits) -> str | None:
        config = {
            "memory_mb": limits.memory_mb,
            "cpu_s": limits.cpu_s or math.ceil(limits.total_timeout_s) + 1,
            "file_size_mb": limits.file_size_mb,
            "open_files": limits.open_files,
            "processes": limits.processes,
            "output_chars": limits.output_chars,
            "keep_prefix": limits.keep_prefix,
            "image_bytes": limits.image_bytes,
            "images_per_cell": limits.images_per_cell,
        }
        self._send(config)
        hello, problem = self._receive(min(limits.cell_timeout_s, max(self._remaining(), 0.1)))
        if hello is None or not hello.get("hello"):
            self._stop()
            reason = problem or (hello or {}).get("error") or "unexpected answer"
            log.warning("sandbox did not start: %s", reason)
            return f"not run: the sandbox did not start ({reason})"
        self.isolation = tuple(str(x) for x in hello.get("isolation", []))
        log.debug("sandbox started", extra={"isolation": self.isolation})
        return None

    def _run_one(self, code: str) -> CellResult:
        remaining = self._remaining()
        if remaining <= 0:
            self._stop()
            return self._not_run(
                f"not run: the sandbox's total time of {self.limits.total_timeout_s:g} s was used up"
            )
        timeout = min(self.limits.cell_timeout_s, remaining)
        began = time.monotonic()
        self._send({"code": code})
        answer, problem = self._receive(timeout)
        duration = time.monotonic() - began
        if answer is None:
            return CellResult(
                Outcome.DEADLINE_EXCEEDED if problem and problem.startswith("timed out") else Outcome.FAILED,
                "",
                error=problem,
                duration_s=duration,
                isolation=self.isolation,
            )
        return self._parse_answer(answer, duration)

    def _parse_answer(self, answer: dict, duration: float) -> CellResult:
        images: list[tuple[bytes, str | None]] = []
        for item in answer.get("images") or []:
            try:
                png = base64.b64decode(item["png"], validate=True)
            except (KeyError, TypeError, ValueError):
                continue
            if png.startswith(PNG_SIGNATURE):
                title = item.get("title")
                images.append((png, str(title)[:200] if title else None))
        outcome = Outcome.OK if answer.get("outcome") == "ok" else Outcome.FAILED
        error = answer.get("error")
        return CellResult(
            outcome,
            str(answer.get("output") or ""),
            images,
            error=str(error) if error else None,
            duration_s=duration,
            isolation=self.isolation,
        )

    def _send(self, obj: dict) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(obj).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child is gone; _receive reports why

    def _receive(self, timeout: float) -> tuple[dict | None, str | None]:
        """Read one JSON line within ``timeout`` seconds; on failure kill the child and say why."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self._stop()
                    return None, f"timed out after {timeout:g} s"
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    return None, self._death_reason()
                self.buffer += chunk
                if len(self.buffer) > _MAX_LINE_BYTES:
                    self._stop()
                    return None, "the answer was larger than the sandbox accepts"
        line, _, self.buffer = self.buffer.partition(b"\n")
        if not line.strip() and isinstance(self.proc, _Forked):
            return self._receive(max(deadline - time.monotonic(), 0.01))  # the monitor's blank separator
        try:
            answer = json.loads(line)
        except ValueError:
            self._stop()
            return None, "the sandbox's answer was garbled (the code wrote to the protocol stream)"
        if isinstance(self.proc, _Forked) and isinstance(answer, dict) and set(answer) == {"exit"}:
            self.proc.returncode = int(answer["exit"])  # the forked runner died; its monitor says how
            return None, self._death_reason()
        return (answer, None) if isinstance(answer, dict) else (None, "unexpected answer")

    def _death_reason(self) -> str:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._stop()
            return "the sandbox closed its output"
        if code < 0:
            sig = signal.Signals(-code)
            return {
                signal.SIGXCPU: "exceeded the CPU-time limit",
                signal.SIGXFSZ: "exceeded the file-size limit",
                signal.SIGKILL: "killed (probably out of memory)",
                signal.SIGSEGV: "crashed (segmentation fault)",
            }.get(sig, f"killed by {sig.name}")
        return f"the sandbox exited with status {code}"

    def _stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        if isinstance(proc, _Forked):
            proc.kill()  # records the status; the fork server reaps the monitor
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("sandbox process %s did not exit after SIGKILL", proc.pid)
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
