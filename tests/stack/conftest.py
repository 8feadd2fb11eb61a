"""Emulator fixtures: one live local stack per test session, started by the suite itself.

fake-gcs-server, the Pub/Sub emulator and both functions (functions-framework subprocesses) come up
once (~4 s) on free ports; the analyze function reaches storage through a fault-injecting proxy so a
test can make Cloud Storage "unavailable" for one object. Every process is stopped at the end of the
session (and gets SIGTERM if pytest dies).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from scripts.local_stack import ALERTS_TAP, DEAD_LETTER_TAP, RESULTS_TAP, LocalStack, PrerequisiteError
from shared.settings import Settings
from tests.stack.faults import FaultProxy

pytestmark = pytest.mark.emulators


@dataclass
class Tap:
    """Collects (and acks) every message of a pull subscription, via streaming pull."""

    messages: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    future: Any = None

    def callback(self, message: Any) -> None:
        with self.lock:
            self.messages.append(message)
        message.ack()

    def where(self, **attributes: str) -> list[Any]:
        with self.lock:
            return [m for m in self.messages if all(m.attributes.get(k) == v for k, v in attributes.items())]


@dataclass
class Live:
    stack: LocalStack
    proxy: FaultProxy
    taps: dict[str, Tap]
    storage: Any
    settings: Settings

    @property
    def input(self) -> Any:
        return self.storage.bucket(self.settings.input_bucket)

    @property
    def reports(self) -> Any:
        return self.storage.bucket(self.settings.reports_bucket)

    def upload(self, name: str, data: bytes, content_type: str = "text/csv", **kwargs: Any) -> Any:
        blob = self.input.blob(name)
        blob.upload_from_string(data, content_type=content_type, **kwargs)
        return blob

    def report_names(self, run_id: str) -> list[str]:
        return sorted(
            b.name
            for b in self.storage.list_blobs(self.settings.reports_bucket, prefix="reports/")
            if f"/{run_id}/" in b.name and b.name.endswith("report.md")
        )

    def log_lines(self, function: str) -> list[dict[str, Any]]:
        lines = []
        for raw in (self.stack.log_dir / f"{function}.log").read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    pass
        return lines

    def runs_finished(self, function: str, run_id: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.log_lines(function)
            if e.get("event") == "run_finished" and e.get("run_id") == run_id
        ]


def wait_for(condition: Callable[[], Any], timeout_s: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory):
    """The live local stack (emulators + functions + bridge), once per session."""
    stack = LocalStack(settings=Settings(), log_dir=tmp_path_factory.mktemp("stack-logs"))
    proxy = None
    futures = []
    try:
        try:
            stack.start(functions=False)
        except PrerequisiteError as err:
            pytest.fail(f"the emulator tests need: {err}")
        proxy = FaultProxy(stack.storage_host)
        stack.functions_storage_host = proxy.url
        stack.start_functions()
        subscriber = stack.subscriber()
        taps = {}
        for name in (RESULTS_TAP, ALERTS_TAP, DEAD_LETTER_TAP):
            tap = Tap()
            tap.future = subscriber.subscribe(stack.subscription(name), tap.callback)
            futures.append(tap.future)
            taps[name] = tap
        yield Live(stack, proxy, taps, stack.storage(), stack.settings)
    finally:
        for future in futures:
            future.cancel()
        if proxy is not None:
            proxy.stop()
        stack.stop()
