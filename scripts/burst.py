"""Upload N files at once and count what comes back: `make burst [N=50]`.

Checks the delivery guarantees under load: N uploads → N reports and N result messages, none lost,
none duplicated. Talks to a running `make up` stack when STORAGE_EMULATOR_HOST and
PUBSUB_EMULATOR_HOST are exported, else starts its own.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from scripts.local_stack import LocalStack, PrerequisiteError, StackError
from shared.messages import Source
from shared.naming import dataset_slug, run_id
from shared.settings import Settings


def csv_bytes(i: int) -> bytes:
    rows = "".join(
        f"2026-01-{d:02d},{r},{(d * 7 + i) % 40 + 1},{9.5 + (d + i) % 5}\n"
        for d in range(1, 29)
        for r in ("north", "south", "east")
    )
    return ("date,region,units,price\n" + rows).encode()


@dataclass
class BurstResult:
    files: int
    reports: int
    messages: int
    lost: int
    duplicated: int
    extra_reports: int
    elapsed_s: float  # from the first upload until every report and result message was there

    @property
    def ok(self) -> bool:
        return self.reports == self.files and not (self.lost or self.duplicated or self.extra_reports)


def report_name(settings: Settings, blob: Any) -> tuple[str, str]:
    """(run id, report.md object name) of an uploaded object."""
    rid = run_id(Source(blob.bucket.name, blob.name, str(blob.generation), blob.size or 0))
    return rid, f"{settings.reports_prefix}{dataset_slug(blob.name)}/{rid}/report.md"


def burst(
    storage: Any, subscriber: Any, settings: Settings, project: str, files: int, timeout_s: float
) -> int:
    """Run a burst and print its outcome; 0 when every upload got exactly one report and message."""
    result = run_burst(storage, subscriber, settings, project, files, timeout_s)
    print(
        f"{files} uploads → {result.reports} reports, {result.messages} result messages "
        f"({result.lost} lost, {result.duplicated} duplicated, {result.extra_reports} unexpected reports) "
        f"in {result.elapsed_s:.1f} s"
    )
    return 0 if result.ok else 1


def run_burst(
    storage: Any, subscriber: Any, settings: Settings, project: str, files: int, timeout_s: float
) -> BurstResult:
    """Upload ``files`` small CSVs at once (16 uploaders) and wait for their reports and messages."""
    tag = uuid.uuid4().hex[:6]
    subscription = f"projects/{project}/subscriptions/csv-insights-burst-{tag}"
    subscriber.create_subscription(
        request={"name": subscription, "topic": f"projects/{project}/topics/{settings.results_topic}"}
    )
    received: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def on_message(message: Any) -> None:
        with lock:
            received[message.attributes.get("run_id", "")] += 1
        message.ack()

    future = subscriber.subscribe(subscription, on_message)
    bucket = storage.bucket(settings.input_bucket)
    started = time.monotonic()

    def upload(i: int) -> tuple[str, str]:
        blob = bucket.blob(f"burst-{tag}/file-{i:03d}.csv")
        blob.upload_from_string(csv_bytes(i), content_type="text/csv")
        return report_name(settings, blob)

    with ThreadPoolExecutor(16) as pool:
        expected = dict(pool.map(upload, range(files)))
    print(
        f"uploaded {files} files in {time.monotonic() - started:.1f} s; waiting for reports ...", flush=True
    )

    slugs = {name.rsplit("/", 2)[0] + "/" for name in expected.values()}  # reports/<slug>/

    def reports() -> collections.Counter[str]:
        found: collections.Counter[str] = collections.Counter()
        for prefix in slugs:
            for blob in storage.list_blobs(settings.reports_bucket, prefix=prefix):
                if blob.name.endswith("/report.md"):
                    found[blob.name] += 1
        return found

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = reports()
        done = sum(1 for name in expected.values() if name in found)
        with lock:
            messages = sum(1 for rid in expected if received[rid])
        if done == files and messages == files:
            break
        time.sleep(1)
    elapsed = time.monotonic() - started
    time.sleep(3)  # late duplicates would arrive now
    found = reports()
    with lock:
        per_run = {rid: received[rid] for rid in expected}
    future.cancel()
    with contextlib.suppress(Exception):
        subscriber.delete_subscription(request={"subscription": subscription})
    # Any other report.md under these datasets would be a second report for one upload.
    return BurstResult(
        files=files,
        reports=sum(1 for name in expected.values() if found[name]),
        messages=sum(per_run.values()),
        lost=sum(1 for n in per_run.values() if n == 0),
        duplicated=sum(n - 1 for n in per_run.values() if n > 1),
        extra_reports=sum(1 for name in found if name not in set(expected.values())),
        elapsed_s=elapsed,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        if os.environ.get("STORAGE_EMULATOR_HOST") and os.environ.get("PUBSUB_EMULATOR_HOST"):
            from google.cloud import pubsub_v1, storage

            print(
                "using the running stack at",
                os.environ["STORAGE_EMULATOR_HOST"],
                os.environ["PUBSUB_EMULATOR_HOST"],
            )
            return burst(
                storage.Client(project=settings.project),
                pubsub_v1.SubscriberClient(),
                settings,
                settings.project,
                args.files,
                args.timeout,
            )
        with LocalStack(settings=settings) as stack:
            print(f"stack up (logs: {stack.log_dir})", flush=True)
            return burst(
                stack.storage(), stack.subscriber(), settings, settings.project, args.files, args.timeout
            )
    except PrerequisiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except StackError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
