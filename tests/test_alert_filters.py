"""Subscription filters as data: the emulator ignores filters, so the strings Terraform uses are checked here."""

from __future__ import annotations

import pytest

from shared.alert_filters import (
    CRITICAL,
    FILTERS,
    MAX_FILTER_BYTES,
    WEBHOOK,
    FilterSyntaxError,
    compile_filter,
    matches,
)
from shared.messages import AlertMessage


def attrs(severity: str, repeat: bool = False) -> dict[str, str]:
    """Attributes exactly as a published alert carries them."""
    return AlertMessage(
        rule="r", severity=severity, dataset="d", run_id="x", message="m", repeat=repeat
    ).attributes()


@pytest.mark.parametrize(
    ("severity", "repeat", "critical", "webhook"),
    [
        ("critical", False, True, True),
        ("critical", True, True, False),
        ("warning", False, False, True),
        ("warning", True, False, False),
        ("info", False, False, False),
    ],
)
def test_terraform_filters_against_real_alert_attributes(severity, repeat, critical, webhook):
    assert matches(CRITICAL, attrs(severity, repeat)) is critical
    assert matches(WEBHOOK, attrs(severity, repeat)) is webhook


def test_filters_are_valid_and_within_the_service_limit():
    for name, expr in FILTERS.items():
        assert len(expr.encode()) <= MAX_FILTER_BYTES, name
        compile_filter(expr)


def test_filters_are_case_sensitive_and_need_the_attribute():
    assert not matches(CRITICAL, {"severity": "CRITICAL"})
    assert not matches(CRITICAL, {})
    assert not matches(CRITICAL, {"rule": "critical"})


@pytest.mark.parametrize(
    ("expr", "attributes", "expected"),
    [
        ('attributes.a = "1"', {"a": "1"}, True),
        ('attributes.a != "1"', {"a": "2"}, True),
        ('attributes.a != "1"', {}, True),
        ("attributes:a", {"a": ""}, True),
        ("attributes:a", {"b": "1"}, False),
        ("NOT attributes:a", {"b": "1"}, True),
        ("-attributes:a", {"a": "1"}, False),
        ('hasPrefix(attributes.rule, "server-")', {"rule": "server-error-rate"}, True),
        ('hasPrefix(attributes.rule, "server-")', {"rule": "sales"}, False),
        ('attributes.a = "1" AND attributes.b = "2"', {"a": "1", "b": "3"}, False),
        ('attributes.a = "1" OR attributes.b = "2"', {"a": "0", "b": "2"}, True),
        ('NOT (attributes.a = "1" OR attributes.b = "2")', {"a": "0", "b": "0"}, True),
        ('attributes.a = "quo\\"te"', {"a": 'quo"te'}, True),
        ("", {}, True),
    ],
)
def test_the_evaluator_follows_pubsub_semantics(expr, attributes, expected):
    assert matches(expr, attributes) is expected


@pytest.mark.parametrize(
    "expr",
    [
        'attributes.a = "1" AND attributes.b = "2" OR attributes.c = "3"',  # Pub/Sub rejects mixing without ()
        "attributes.a = 1",  # values must be quoted
        'severity = "critical"',  # the attributes. prefix is required
        'attributes.a = "1" AND',
        '(attributes.a = "1"',
        'attributes.a > "1"',
        'attributes.a = "' + "x" * MAX_FILTER_BYTES + '"',
    ],
)
def test_invalid_filters_are_rejected(expr):
    with pytest.raises(FilterSyntaxError):
        compile_filter(expr)


def _alert_subscription_filters() -> dict[str, str | None]:
    """Filter of every Terraform subscription on the alerts topic, by resource name (None: no filter)."""
    from pathlib import Path

    import hcl2

    tf_dir = Path(__file__).resolve().parents[1] / "terraform"
    found: dict[str, str | None] = {}
    for path in sorted(tf_dir.glob("*.tf")):
        with path.open() as fh:
            doc = hcl2.load(fh)
        for block in doc.get("resource", []):
            for name, body in block.get('"google_pubsub_subscription"', {}).items():
                if "google_pubsub_topic.alerts." not in str(body.get("topic", "")):
                    continue
                raw = body.get("filter")
                # python-hcl2 keeps the HCL quotes and escapes: "attributes.severity = \"critical\""
                found[name.strip('"')] = None if raw is None else raw[1:-1].replace('\\"', '"')
    return found


def test_terraform_uses_these_filter_strings_on_the_alerts_topic():
    filters = _alert_subscription_filters()
    if not filters:
        pytest.skip("no Terraform subscriptions on the alerts topic in this checkout yet")
    assert filters.get("alerts_critical") == CRITICAL
    for name, expr in filters.items():
        assert expr is None or expr in FILTERS.values(), (
            f"{name}: filter {expr!r} is not in shared.alert_filters"
        )
