"""Print alerts as they arrive on a Pub/Sub subscription, one readable line each.

    python -m scripts.alerts_subscriber --subscription csv-insights-alerts-critical
    python -m scripts.alerts_subscriber --create --subscription my-alerts --severity warning

Against the local emulator set PUBSUB_EMULATOR_HOST=127.0.0.1:PORT (the client library reads it);
in the cloud the library uses Application Default Credentials. Filters: the emulator accepts
subscription filters but does not apply them, so ``--filter`` (Pub/Sub filter syntax) and
``--severity`` (a minimum level) are also applied here, in code. Every message received is acked,
shown or not, as the service does for messages a filter drops.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from shared.alert_filters import FilterSyntaxError, compile_filter

LEVELS = ("info", "warning", "critical")


def format_alert(data: bytes, attributes: Mapping[str, str]) -> str:
    """One line for a person: time, severity, rule, dataset, the sentence, run id and repeat mark."""
    try:
        body: dict[str, Any] = json.loads(data)
    except ValueError:
        body = {}
    severity = (attributes.get("severity") or body.get("severity") or "?").upper()
    rule = attributes.get("rule") or body.get("rule") or "?"
    dataset = attributes.get("dataset") or body.get("dataset") or "?"
    message = body.get("message") or data.decode("utf-8", "replace")[:200]
    run_id = attributes.get("run_id") or body.get("run_id") or "?"
    when = body.get("created_at") or time.strftime("%Y-%m-%dT%H:%M:%S%z")
    repeat = " REPEAT" if attributes.get("repeat") == "true" else ""
    line = f"{when} {severity:<8} {rule} [{dataset}]{repeat} {message} (run {run_id})"
    if body.get("report_uri"):
        line += f" {body['report_uri']}"
    return line


def wanted(attributes: Mapping[str, str], *, min_severity: str | None, predicate, hide_repeats: bool) -> bool:
    """Whether this subscriber shows a message with ``attributes``."""
    if min_severity is not None:
        level = attributes.get("severity", "")
        if level not in LEVELS or LEVELS.index(level) < LEVELS.index(min_severity):
            return False
    if hide_repeats and attributes.get("repeat") == "true":
        return False
    return predicate(attributes)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT", "local-project"))
    p.add_argument("--subscription", default="csv-insights-alerts-cli", help="subscription id or full path")
    p.add_argument(
        "--topic",
        default=os.environ.get("ALERTS_TOPIC", "csv-insights-alerts"),
        help="alerts topic (used with --create)",
    )
    p.add_argument(
        "--create",
        action="store_true",
        help="create the topic and subscription when missing (handy against the emulator)",
    )
    p.add_argument("--severity", choices=LEVELS, help="show only alerts at or above this level")
    p.add_argument("--filter", default="", help="Pub/Sub filter, e.g. 'attributes.severity = \"critical\"'")
    p.add_argument("--hide-repeats", action="store_true", help="drop alerts marked repeat=true")
    p.add_argument("--json", action="store_true", help="print each alert's JSON body instead of a line")
    p.add_argument("--max-messages", type=int, default=0, help="exit after printing this many (0: never)")
    p.add_argument("--timeout", type=float, default=0, help="exit after this many seconds (0: never)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        predicate = compile_filter(args.filter)
    except FilterSyntaxError as err:
        print(f"invalid --filter: {err}", file=sys.stderr)
        return 2

    from google.api_core import exceptions
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    sub_path = (
        args.subscription
        if args.subscription.startswith("projects/")
        else subscriber.subscription_path(args.project, args.subscription)
    )
    if args.create:
        publisher = pubsub_v1.PublisherClient()
        topic_path = publisher.topic_path(args.project, args.topic)
        try:
            publisher.create_topic(request={"name": topic_path})
        except exceptions.AlreadyExists:
            pass
        try:
            # The filter also goes to the service: in the cloud it applies server-side, locally it is ignored.
            subscriber.create_subscription(
                request={"name": sub_path, "topic": topic_path, "filter": args.filter}
            )
        except exceptions.AlreadyExists:
            pass

    shown = 0
    lock = threading.Lock()
    done = threading.Event()

    def callback(message: Any) -> None:
        nonlocal shown
        attributes = dict(message.attributes)
        show = wanted(
            attributes, min_severity=args.severity, predicate=predicate, hide_repeats=args.hide_repeats
        )
        with lock:
            if show and not done.is_set():
                text = (
                    message.data.decode("utf-8", "replace")
                    if args.json
                    else format_alert(message.data, attributes)
                )
                print(text, flush=True)
                shown += 1
                if args.max_messages and shown >= args.max_messages:
                    done.set()
        message.ack()

    future = subscriber.subscribe(sub_path, callback=callback)
    stream_failed = threading.Event()

    def on_stream_end(f: Any) -> None:
        if not f.cancelled():
            stream_failed.set()  # e.g. the subscription does not exist: stop waiting
            done.set()

    future.add_done_callback(on_stream_end)
    emulator = os.environ.get("PUBSUB_EMULATOR_HOST")
    print(
        f"listening on {sub_path}"
        + (f" (emulator {emulator})" if emulator else "")
        + (f", filter {args.filter!r}" if args.filter else "")
        + (f", severity >= {args.severity}" if args.severity else ""),
        file=sys.stderr,
        flush=True,
    )
    try:
        done.wait(args.timeout or None)
    except KeyboardInterrupt:
        pass
    finally:
        future.cancel()
        error: BaseException | None = None
        try:
            future.result(timeout=5)
        except Exception as err:  # a cancelled stream's shutdown error is not news; a failed one is
            error = err if stream_failed.is_set() else None
        subscriber.close()
    if error is not None:
        print(f"subscription {sub_path} failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
