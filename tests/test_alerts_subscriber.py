"""The alerts subscriber CLI: line format, and end to end against Google's Pub/Sub emulator."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from scripts.alerts_subscriber import format_alert, wanted
from shared.alert_filters import WEBHOOK, compile_filter
from shared.alert_rules import parse_rules
from shared.alerts import evaluate
from shared.messages import AlertMessage
from tests.pipeline_inputs import SAMPLES, profile_of, source_of, table_of

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "alerts-test"


def test_one_line_per_alert_with_severity_rule_dataset_and_repeat_mark():
    alert = AlertMessage(
        rule="server-error-rate",
        severity="critical",
        dataset="servers",
        run_id="abc",
        message="servers.csv: 1 row has error_rate > 0.03: web-04 (0.08).",
        repeat=True,
        created_at="2026-11-25T02:00:00+00:00",
    )
    line = format_alert(alert.to_json(), alert.attributes())
    assert line == (
        "2026-11-25T02:00:00+00:00 CRITICAL server-error-rate [servers] REPEAT "
        "servers.csv: 1 row has error_rate > 0.03: web-04 (0.08). (run abc)"
    )


def test_minimum_severity_and_repeat_hiding_in_code():
    everything = compile_filter("")
    assert wanted({"severity": "critical"}, min_severity="warning", predicate=everything, hide_repeats=False)
    assert not wanted({"severity": "info"}, min_severity="warning", predicate=everything, hide_repeats=False)
    assert not wanted(
        {"severity": "critical", "repeat": "true"}, min_severity=None, predicate=everything, hide_repeats=True
    )


# ------------------------------------------------------------------------- against the emulator


def _launcher() -> Path | None:
    explicit = os.environ.get("PUBSUB_EMULATOR_LAUNCHER")
    if explicit:
        return Path(explicit)
    gcloud = shutil.which("gcloud")
    if not gcloud:
        return None
    candidate = (
        Path(gcloud).resolve().parent.parent
        / "platform"
        / "pubsub-emulator"
        / "bin"
        / "cloud-pubsub-emulator"
    )
    return candidate if candidate.exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    launcher = _launcher()
    if launcher is None:
        pytest.skip(
            "Pub/Sub emulator not installed (gcloud component pubsub-emulator / google-cloud-cli-pubsub-emulator)"
        )
    if shutil.which("java") is None:
        pytest.skip("Java is missing: the Pub/Sub emulator needs a JRE")
    port = _free_port()
    env = {**os.environ, "JAVA_OPTS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"}
    data_dir = tmp_path_factory.mktemp("pubsub")
    log = (data_dir / "emulator.log").open("wb")
    proc = subprocess.Popen(
        [str(launcher), "--host=127.0.0.1", f"--port={port}", f"--data-dir={data_dir}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    host = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}/", timeout=1) as resp:
                if resp.read().strip() == b"Ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Pub/Sub emulator did not start: {(data_dir / 'emulator.log').read_text()[-2000:]}")
        time.sleep(0.1)
    yield host
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _start_subscriber(host: str, *args: str) -> tuple[subprocess.Popen, queue.Queue]:
    env = {**os.environ, "PUBSUB_EMULATOR_HOST": host, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.alerts_subscriber",
            "--project",
            PROJECT,
            "--topic",
            "alerts",
            "--create",
            "--timeout",
            "60",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    return proc, lines


def _wait_listening(proc: subprocess.Popen, lines: queue.Queue) -> str:
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if line.startswith("listening on"):
            return line
    proc.kill()
    pytest.fail("subscriber never started listening:\n" + "".join(seen))


@pytest.mark.emulators
def test_subscriber_prints_alerts_as_they_arrive_from_the_emulator(emulator, monkeypatch):
    from google.cloud import pubsub_v1

    critical, critical_lines = _start_subscriber(
        emulator, "--subscription", "cli-critical", "--severity", "critical", "--max-messages", "2"
    )
    webhook, webhook_lines = _start_subscriber(
        emulator, "--subscription", "cli-webhook", "--filter", WEBHOOK, "--max-messages", "2"
    )
    assert "cli-critical" in _wait_listening(critical, critical_lines)
    assert "cli-webhook" in _wait_listening(webhook, webhook_lines)

    rules = parse_rules((SAMPLES / "alerts.yaml").read_text())
    table = table_of(SAMPLES / "servers.csv")
    [real] = [
        a
        for a in evaluate(
            rules,
            table=table,
            profile=profile_of(table),
            source=source_of("servers.csv"),
            dataset="servers",
            run_id="run-1",
            failure=None,
            state=None,
        )
        if a.rule == "server-error-rate"
    ]
    info = AlertMessage(
        rule="duplicate-rows", severity="info", dataset="servers", run_id="run-1", message="dups"
    )
    warning_repeat = AlertMessage(
        rule="schema-change",
        severity="warning",
        dataset="servers",
        run_id="run-2",
        message="old news",
        repeat=True,
    )
    critical_repeat = AlertMessage(
        rule="server-error-rate",
        severity="critical",
        dataset="servers",
        run_id="run-2",
        message="still failing",
        repeat=True,
    )
    warning = AlertMessage(
        rule="schema-change",
        severity="warning",
        dataset="servers",
        run_id="run-3",
        message="removed latency_ms",
    )

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", emulator)
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(PROJECT, "alerts")
    for alert in (info, real, warning_repeat, critical_repeat, warning):
        publisher.publish(topic, alert.to_json(), **alert.attributes()).result(timeout=10)

    out_critical, _ = critical.communicate(timeout=30)
    out_webhook, _ = webhook.communicate(timeout=30)
    assert critical.returncode == 0 and webhook.returncode == 0
    # Callbacks run on a thread pool, so lines may come in any order: compare them as a set.
    critical_out = sorted(out_critical.splitlines(), key=lambda line: "REPEAT" in line)
    assert len(critical_out) == 2, out_critical
    assert critical_out[0].endswith(
        " CRITICAL server-error-rate [servers] servers.csv: 3 rows have error_rate > 0.03: "
        "web-02 (0.05), web-04 (0.08) and api-02 (0.06). (run run-1)"
    ), critical_out[0]
    assert "CRITICAL server-error-rate [servers] REPEAT still failing (run run-2)" in critical_out[1]
    # The webhook filter (applied in code, as the emulator ignores it): new critical and warning alerts only.
    webhook_out = out_webhook.splitlines()
    assert sorted(line.split()[2] for line in webhook_out) == ["schema-change", "server-error-rate"], (
        out_webhook
    )
    assert "removed latency_ms" in out_webhook and "REPEAT" not in out_webhook
