"""The process the sandbox runs: executes code cells sent by the parent, one JSON line each way.

Started by ``shared.sandbox`` as ``python -I _sandbox_runner.py`` in a private temporary directory with a
clean environment. Standard library only (it is executed as a script, not imported from ``shared``).

Protocol: the parent first writes one JSON line of configuration; the runner hardens itself (network
namespace, unprivileged uid, resource limits, audit hook) *before any cell runs* and answers with a
``hello`` line naming the isolation in force. Then, per cell, the parent writes ``{"code": ...}`` and
the runner answers ``{"outcome", "output", "images", "error"}``. Cells share one namespace, like
notebook cells. After each cell every open matplotlib figure is saved as PNG and closed.
"""

from __future__ import annotations

import base64
import ctypes
import errno
import io
import json
import os
import resource
import signal
import sys
import traceback

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
NOBODY = 65534


class CappedWriter(io.TextIOBase):
    """A text stream keeping the first ``cap`` characters for people, plus every line that starts with
    ``keep_prefix`` (machine-readable results) up to ``hard_cap`` characters in all."""

    def __init__(self, cap: int, keep_prefix: str | None = None, hard_cap: int = 4_000_000) -> None:
        self.cap = cap
        self.keep_prefix = keep_prefix
        self.hard_cap = hard_cap
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.hard_cap - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def value(self) -> str:
        text = "".join(self.parts)
        if len(text) <= self.cap and not self.dropped:
            return text
        kept: list[str] = []
        marked: list[str] = []
        used = 0
        for line in text.splitlines(keepends=True):
            if self.keep_prefix and line.startswith(self.keep_prefix):
                marked.append(line)
            elif used < self.cap:
                kept.append(line[: self.cap - used])
                used += min(len(line), self.cap - used)
        shown = "".join(kept)
        hidden = len(text) - len(shown) - sum(map(len, marked)) + self.dropped
        if hidden > 0:
            shown += f"\n[output truncated: {hidden:,} more characters not shown]\n"
        return shown + "".join(marked)


PR_SET_NO_NEW_PRIVS = 38
PR_CAPBSET_DROP = 24
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def isolate_network() -> str:
    """Move into a fresh network namespace (only a downed loopback); fall back to an audit-hook guard."""
    libc = ctypes.CDLL(None, use_errno=True)
    if os.geteuid() == 0:
        if libc.unshare(CLONE_NEWNET) == 0:
            return "network namespace"
    else:
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
            # Map our own ids so files keep their owner; setgroups must be denied before gid_map.
            for name, text in (
                ("setgroups", "deny"),
                ("uid_map", f"{uid} {uid} 1"),
                ("gid_map", f"{gid} {gid} 1"),
            ):
                try:
                    with open(f"/proc/self/{name}", "w") as fh:
                        fh.write(text)
                except OSError:
                    pass
            return "network namespace (user namespace)"
    return "socket guard only (network namespace unavailable)"


def drop_root() -> str | None:
    """As root, become ``nobody`` so RLIMIT_NPROC applies and root-only files are out of reach.

    A forked probe first checks that ``nobody`` can still reach the interpreter's library folders; if
    not (e.g. Python installed under /root), the runner stays root and says so.
    """
    if os.geteuid() != 0:
        return None
    needed = [entry for entry in sys.path if entry and os.path.isdir(entry)] + ["."]
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            for entry in needed:
                os.listdir(entry)
            os._exit(0)
        except BaseException:  # noqa: BLE001 - any failure means "stay root"; the fork must never return
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return "still root (nobody cannot read the interpreter's libraries)"
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return f"uid {NOBODY}"


def drop_capabilities() -> str:
    """When the runner must stay root: give up every capability and the means to regain one.

    Without CAP_SYS_PTRACE a process cannot read /proc/<pid>/environ of a non-dumpable process (the
    parent marks itself so), which is where a function's startup credentials live; without
    CAP_DAC_OVERRIDE, files root does not own are out of reach. (RLIMIT_NPROC still does not bind uid 0:
    the wall-time kill bounds a fork bomb.)
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(64):  # the bounding set, so an exec cannot bring any capability back
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # EINVAL: past the last capability this kernel knows

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    empty = (Data * 2)()  # version 3 takes two 32-bit halves, all zero
    if libc.capset(ctypes.byref(Header(_LINUX_CAPABILITY_VERSION_3, 0)), empty) != 0:
        return "capabilities kept (capset failed)"
    return "no capabilities"


def tasks_of_uid(uid: int) -> int:
    """Threads the uid already runs: RLIMIT_NPROC counts them all, the parent's included."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields.get("Threads", "1"))
        except (OSError, ValueError, KeyError):
            continue
    return total


def set_limits(cfg: dict, shares_uid: bool) -> list[str]:
    """Kernel limits for this process and its children. With the parent's uid (not root, not dropped to
    nobody), RLIMIT_NPROC would also count the parent's threads: allow those on top."""
    applied = []
    mib = 1024 * 1024
    processes = cfg["processes"] + (tasks_of_uid(os.getuid()) if shares_uid else 0)
    for name, value in (
        ("RLIMIT_AS", cfg["memory_mb"] * mib),
        ("RLIMIT_CPU", cfg["cpu_s"]),
        ("RLIMIT_FSIZE", cfg["file_size_mb"] * mib),
        ("RLIMIT_NOFILE", cfg["open_files"]),
        ("RLIMIT_NPROC", processes),
        ("RLIMIT_CORE", 0),
    ):
        try:
            soft_hard = (value, value + 1) if name == "RLIMIT_CPU" else (value, value)
            resource.setrlimit(getattr(resource, name), soft_hard)
            applied.append(name)
        except (ValueError, OSError):
            pass
    return applied


def install_guard(workdir: str) -> None:
    """Audit hook (cannot be removed once added): no sockets, no new processes, and files only inside
    the working directory or the interpreter's own folders. Python-level only: ctypes can bypass it."""
    read_roots = {os.path.realpath(workdir)}
    for entry in [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path, "/usr/share", "/etc/fonts"]:
        if entry and os.path.isabs(entry):
            read_roots.add(os.path.realpath(entry))
    write_root = os.path.realpath(workdir)
    devices = {"/dev/null", "/dev/urandom", "/dev/random"}
    blocked_prefixes = (
        "socket.",
        "subprocess.",
        "os.exec",
        "os.spawn",
        "os.posix_spawn",
        "os.fork",
        "os.system",
        "pty.",
    )

    def inside(path: str, roots) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)

    def hook(event: str, args: tuple) -> None:
        if event.startswith(blocked_prefixes) and event not in ("socket.gethostname", "socket.getaddrinfo"):
            raise PermissionError(f"blocked by the sandbox: {event}")
        if event in (
            "open",
            "os.listdir",
            "os.scandir",
            "os.chdir",
            "os.remove",
            "os.rename",
            "os.mkdir",
            "os.rmdir",
            "shutil.rmtree",
            "os.symlink",
            "os.link",
            "os.chmod",
            "os.chown",
        ):
            path = args[0] if args else None
            if isinstance(path, int) or path is None:
                return
            path = os.fsdecode(path)
            real = os.path.realpath(path)
            if real in devices:
                return
            writing = event != "open" or _open_writes(args)
            if event in ("os.listdir", "os.scandir") or not writing:
                if not inside(real, read_roots):
                    raise PermissionError(
                        f"blocked by the sandbox: reading {path!r} outside the working directory"
                    )
            elif not inside(real, (write_root,)):
                raise PermissionError(
                    f"blocked by the sandbox: writing {path!r} outside the working directory"
                )

    sys.addaudithook(hook)


def _open_writes(args: tuple) -> bool:
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return bool(isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))


def save_figures(cfg: dict) -> list[dict]:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    images = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
        if not title:
            title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        finally:
            plt.close(fig)
        data = buf.getvalue()
        if len(images) < cfg["images_per_cell"] and len(data) <= cfg["image_bytes"]:
            images.append({"png": base64.b64encode(data).decode(), "title": title or None})
    return images


def short_error(err: BaseException) -> str:
    if isinstance(err, OSError) and err.errno == errno.EFBIG:
        return "exceeded the file-size limit"
    if isinstance(err, MemoryError):
        return "MemoryError (over the memory limit)"
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:200] if text else type(err).__name__


def run_cell(code: str, namespace: dict, cfg: dict) -> dict:
    out = CappedWriter(cfg["output_chars"], cfg.get("keep_prefix"))
    sys.stdout = sys.stderr = out
    outcome, error = "ok", None
    try:
        exec(compile(code, "<cell>", "exec"), namespace)  # noqa: S102 - running the cell is the point
    except BaseException as err:  # noqa: BLE001 - a cell may raise anything, even SystemExit
        outcome, error = "failed", short_error(err)
        tb = traceback.format_exception(type(err), err, err.__traceback__)
        # Drop the runner's own frame so the traceback starts at the cell.
        out.write("".join(tb[:1] + tb[2:]) if len(tb) > 2 else "".join(tb))
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    try:
        images = save_figures(cfg)
    except BaseException as err:  # noqa: BLE001
        images = []
        out.write(f"\n[saving figures failed: {short_error(err)}]\n")
        if outcome == "ok":
            outcome, error = "failed", "saving figures failed: " + short_error(err)
    return {"outcome": outcome, "output": out.value(), "images": images, "error": error}


def main() -> None:
    # The protocol keeps private duplicates of stdin/stdout; fds 0-2 then point at /dev/null so stray
    # writes by C code cannot corrupt the JSON stream (cell output is captured at the Python level).
    proto_in = os.fdopen(os.dup(0), "r", encoding="utf-8")
    proto_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.dont_write_bytecode = True

    def send(obj: dict) -> None:
        proto_out.write(json.dumps(obj) + "\n")
        proto_out.flush()

    try:
        cfg = json.loads(proto_in.readline())
        workdir = os.getcwd()
        isolation = [isolate_network()]
        user = drop_root()
        if user:
            isolation.append(user)
        isolation.append(
            "limits "
            + ",".join(
                n.removeprefix("RLIMIT_")
                for n in set_limits(cfg, shares_uid=os.getuid() != 0 and user is None)
            )
        )
        if os.geteuid() == 0:  # could not drop to nobody
            # The parent gave the working directory to nobody; without capabilities root must own it.
            for folder, _dirs, names in os.walk(workdir):
                for path in (folder, *(os.path.join(folder, n) for n in names)):
                    os.chown(path, 0, 0)
            isolation.append(drop_capabilities())
        # A file-size overrun raises OSError(EFBIG) in the cell instead of killing the process.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        install_guard(workdir)
        isolation.append("audit hook (sockets, processes, files outside the working directory)")
    except BaseException as err:  # noqa: BLE001 - report why, the parent cannot see stderr
        send({"hello": False, "error": short_error(err), "traceback": traceback.format_exc()})
        return
    send({"hello": True, "isolation": isolation})
    namespace: dict = {"__name__": "__main__"}
    for line in proto_in:
        request = json.loads(line)
        send(run_cell(request["code"], namespace, cfg))


PRELOAD = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot")


def zygote(control_fd: int) -> None:
    """The warm sandbox's fork server: import the heavy libraries once, then fork one session per request.

    Never runs cell code itself. Per request (a JSON line with the working directory and environment,
    plus the session's stdin and stdout as passed file descriptors) it forks a *monitor* in a new
    session (process group), answers with the monitor's pid, and goes back to waiting. The monitor
    enters the working directory and the clean environment and forks the *runner*, which goes through
    exactly the cold runner's ``main``: namespaces, uid, limits and audit hook are applied in that fresh
    child before any cell runs. When the runner dies the monitor writes its exit status to the session's
    stdout (the parent cannot wait for a grandchild), then exits.
    """
    import socket

    os.environ.setdefault("MPLBACKEND", "Agg")
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    # draw and save one figure: fonts, the Agg renderer and the PNG writer are loaded before any fork
    # (through pandas' plotting layer, which analyst code uses and which pandas imports lazily)
    plt = sys.modules["matplotlib.pyplot"]
    ax = sys.modules["pandas"].DataFrame({"x": [0, 1], "y": [0, 1]}).plot(x="x", y="y", title="warm-up")
    fig = ax.get_figure()
    fig.savefig(io.BytesIO(), format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    sock = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # monitors are reaped by the kernel
    sock.sendall(json.dumps({"ready": True, "preloaded": list(PRELOAD)}).encode())
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 2)
        except OSError:
            return
        if not message:
            return  # the parent is gone
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            try:
                sock.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.setsid()
                monitor(request, fds)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        sock.sendall(json.dumps({"pid": pid}).encode())


def monitor(request: dict, fds: list[int]) -> None:
    in_fd, out_fd = fds
    os.chdir(request["workdir"])
    os.environ.clear()
    os.environ.update(request["env"])
    pid = os.fork()
    if pid == 0:
        os.dup2(in_fd, 0)
        os.dup2(out_fd, 1)
        os.close(in_fd)
        os.close(out_fd)
        try:
            main()
        finally:
            os._exit(0)
    os.close(in_fd)
    _, status = os.waitpid(pid, 0)
    # on a line of its own: a runner killed mid-answer leaves a partial line, which stays garbled
    os.write(out_fd, b"\n" + json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode() + b"\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--zygote":
        zygote(int(sys.argv[2]))
    else:
        main()
