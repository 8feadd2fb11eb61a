"""Structural checks of terraform/ on the source text (the google provider is not available here, so
`terraform validate` cannot run): typed and described variables, references that resolve, the
functions' environment against shared/settings.py, triggers, IAM and the Pub/Sub wiring."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

import pytest

from scripts.terraform_config import TERRAFORM_DIR, TerraformConfig, load
from shared import alert_filters
from shared.settings import Settings, env_names

# Variables the google-genai SDK reads itself (not Settings): Gemini through Vertex AI in the
# deployment's project. Allowed on the analyze function only, the one that calls Gemini.
GENAI_SDK_VARIABLES = {"GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_LOCATION"}

PRIMITIVE_ROLES = {"roles/owner", "roles/editor", "roles/viewer"}
# The only roles granted on the whole project: each exists nowhere narrower.
PROJECT_ROLES = {
    "roles/aiplatform.user",  # Vertex AI has no per-model IAM
    "roles/eventarc.eventReceiver",  # project-level only
    "roles/logging.logWriter",  # build logs
    "roles/pubsub.publisher",  # the GCS service agent publishing bucket events (Eventarc transport)
}

# Names that look like references but are iterators and built-ins.
_NON_REFERENCES = {"each", "count", "path", "self", "terraform", "source", "encryption", "lifecycle_rule"}


@pytest.fixture(scope="module")
def tf() -> TerraformConfig:
    return load()


def _strings(node: Any) -> list[str]:
    """Every string inside a parsed block, however deeply nested (keys included)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _expressions(node: Any) -> list[str]:
    """The `${...}` parts of every string (what Terraform evaluates)."""
    found = []
    for text in _strings(node):
        depth, start = 0, None
        i = 0
        while i < len(text):
            if text.startswith("${", i):
                if depth == 0:
                    start = i + 2
                depth += 1
                i += 2
                continue
            if text[i] == "{" and depth:
                depth += 1
            elif text[i] == "}" and depth:
                depth -= 1
                if depth == 0 and start is not None:
                    found.append(text[start:i])
            i += 1
    return found


def _without_string_literals(expression: str) -> str:
    """Drop quoted literals (log filters, URLs) but keep interpolations inside them."""
    out = re.sub(r'"(?:[^"\\$]|\\.|\$(?!\{))*"', '""', expression)
    return out


_RESOURCE_REF = re.compile(r"(?<![\w.\"/-])([a-z][a-z0-9]*_[a-z0-9_]+)\.([a-z_][a-z0-9_-]*)")
_DATA_REF = re.compile(r"(?<![\w.])data\.([a-z0-9_]+)\.([a-z_][a-z0-9_-]*)")
_VAR_REF = re.compile(r"(?<![\w.])var\.([a-z_][a-z0-9_]*)")
_LOCAL_REF = re.compile(r"(?<![\w.])local\.([a-z_][a-z0-9_]*)")


def _references(tf: TerraformConfig) -> dict[str, set]:
    refs: dict[str, set] = {"resource": set(), "data": set(), "var": set(), "local": set()}
    providers = [parsed.get("provider", []) for parsed in tf.files.values()]
    blocks = [tf.resources, tf.data, tf.outputs, tf.locals, tf.variables, providers]
    for expression in (e for block in blocks for e in _expressions(block)):
        code = _without_string_literals(expression)
        refs["data"] |= set(_DATA_REF.findall(code))
        refs["var"] |= set(_VAR_REF.findall(code))
        refs["local"] |= set(_LOCAL_REF.findall(code))
        for kind, name in _RESOURCE_REF.findall(re.sub(r"(?<![\w.])data\.", "data_source_.", code)):
            if kind.startswith(("google_", "archive_", "time_")):
                refs["resource"].add((kind, name))
    return refs


def _local_dict(tf: TerraformConfig, expression: str) -> dict[str, Any]:
    """environment_variables is `local.x` or `merge(local.x, local.y)`: resolve it to one dict."""
    match = re.fullmatch(r"\$\{(?:merge\((?P<many>[\w., ]+)\)|(?P<one>local\.\w+))\}", expression)
    assert match, f"environment_variables must be a local or a merge of locals, not {expression!r}"
    names = [part.strip() for part in (match["many"] or match["one"]).split(",")]
    merged: dict[str, Any] = {}
    for name in names:
        assert name.startswith("local."), name
        merged.update(tf.locals[name.removeprefix("local.")])
    return merged


# --- files and variables ------------------------------------------------------------------------


def test_configuration_is_split_into_files_by_concern():
    expected = {"versions.tf", "variables.tf", "outputs.tf", "apis.tf", "storage.tf", "pubsub.tf",
                "iam.tf", "functions.tf", "monitoring.tf"}
    assert {p.name for p in TERRAFORM_DIR.glob("*.tf")} == expected


def test_every_variable_is_typed_and_described(tf):
    assert tf.variables, "no variables parsed"
    for name, body in tf.variables.items():
        assert body.get("type"), f"variable {name} has no type"
        assert len(str(body.get("description", ""))) >= 20, f"variable {name} has no real description"


def test_variables_are_declared_in_alphabetical_order(tf):
    declared = [next(iter(block)) for block in tf.files["variables.tf"]["variable"]]
    assert declared == sorted(declared)


def test_only_project_and_region_are_required(tf):
    required = {name for name, body in tf.variables.items() if "default" not in body}
    assert required == {"project_id", "region"}


def test_enumerated_and_bounded_variables_are_validated(tf):
    for name in ("analyst", "prefix", "project_id", "region", "python_runtime", "max_delivery_attempts",
                 "analyze_function", "report_function", "alerts_webhook_url", "kms_key_name"):
        assert tf.variables[name].get("validation"), f"variable {name} is not validated"


def test_runtime_is_python_3_11_or_later(tf):
    runtime = tf.variables["python_runtime"]
    assert re.fullmatch(r"python3(1[1-9])", runtime["default"])
    allowed = re.findall(r"python3\d+", runtime["validation"][0]["condition"])
    assert allowed and all(int(r.removeprefix("python3")) >= 11 for r in allowed)


def test_defaults_of_analyst_and_model_match_the_code(tf):
    assert tf.variables["analyst"]["default"] == Settings().analyst
    assert tf.variables["gemini_model"]["default"] == Settings().gemini_model


def test_provider_versions_are_ranges(tf):
    required = tf.files["versions.tf"]["terraform"][0]["required_providers"][0]
    for provider in ("google", "archive", "time"):
        version = required[provider]["version"]
        assert ">=" in version and "<" in version.replace("<=", ""), f"{provider} is not a bounded range"


# --- references ---------------------------------------------------------------------------------


def test_every_reference_resolves_to_a_declaration(tf):
    refs = _references(tf)
    assert refs["resource"] and refs["var"] and refs["local"], "reference extraction found nothing"
    declared_resources = {(kind, name) for kind, name, _ in tf.all_resources()}
    declared_data = {(kind, name) for kind, named in tf.data.items() for name in named}
    assert refs["resource"] - declared_resources == set()
    assert refs["data"] - declared_data == set()
    assert refs["var"] - set(tf.variables) == set()
    assert refs["local"] - set(tf.locals) == set()


def test_every_variable_and_local_is_used(tf):
    refs = _references(tf)
    assert set(tf.variables) - refs["var"] == set(), "declared but unused variables"
    assert set(tf.locals) - refs["local"] == set(), "declared but unused locals"


def test_reference_extraction_catches_an_undeclared_name(tf):
    # Guard against a checker that passes because it matches nothing.
    broken = load()
    broken.outputs["bogus"] = {"value": "${google_storage_bucket.missing.name} ${var.nope} ${local.nada}"}
    refs = _references(broken)
    assert ("google_storage_bucket", "missing") in refs["resource"]
    assert "nope" in refs["var"] and "nada" in refs["local"]


def _dependencies(tf: TerraformConfig) -> dict[str, set[str]]:
    """Resource/data node -> the nodes its arguments reference (through locals, transitively)."""

    def direct(node: Any) -> tuple[set[str], set[str]]:
        nodes, locals_used = set(), set()
        for expression in _expressions(node):
            code = _without_string_literals(expression)
            nodes |= {f"data.{k}.{n}" for k, n in _DATA_REF.findall(code)}
            locals_used |= set(_LOCAL_REF.findall(code))
            for kind, name in _RESOURCE_REF.findall(re.sub(r"(?<![\w.])data\.", "data_source_.", code)):
                if kind.startswith(("google_", "archive_", "time_")):
                    nodes.add(f"{kind}.{name}")
        return nodes, locals_used

    def through_locals(names: set[str], seen: set[str]) -> set[str]:
        nodes: set[str] = set()
        for name in names - seen:
            seen.add(name)
            found, more = direct(tf.locals[name])
            nodes |= found | through_locals(more, seen)
        return nodes

    graph = {}
    everything = [(f"{k}.{n}", body) for k, n, body in tf.all_resources()]
    everything += [(f"data.{k}.{n}", body) for k, named in tf.data.items() for n, body in named.items()]
    for node, body in everything:
        found, locals_used = direct(body)
        graph[node] = (found | through_locals(locals_used, set())) - {node}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_dependency_graph_has_no_cycle(tf):
    graph = _dependencies(tf)
    assert "google_cloudfunctions2_function.report" in graph["google_pubsub_subscription.report"]
    assert _cycle(graph) is None, f"dependency cycle: {' -> '.join(_cycle(graph))}"


def test_cycle_detection_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


# --- functions ----------------------------------------------------------------------------------


def _function(tf, name):
    return tf.resource("google_cloudfunctions2_function", name)


def test_settings_env_names_are_exactly_what_the_code_reads(tf):
    assert sorted(tf.locals["settings_env"]) == sorted(env_names())
    assert set(tf.locals["genai_sdk_env"]) == GENAI_SDK_VARIABLES


@pytest.mark.parametrize(
    ("function", "extra"), [("analyze", GENAI_SDK_VARIABLES), ("report", set())]
)
def test_function_environment_is_the_settings_plus_only_allowed_sdk_variables(tf, function, extra):
    service = _function(tf, function)["service_config"][0]
    environment = _local_dict(tf, service["environment_variables"])
    assert set(environment) == set(env_names()) | extra


def test_tunable_settings_default_to_the_codes_defaults_and_parse(tf):
    defaults = {f.metadata["env"]: f.default for f in fields(Settings)}
    lookup = re.compile(r'\$\{lookup\(var\.setting_overrides, "(?P<name>\w+)", (?P<default>.+)\)\}')
    tunable = 0
    for name, value in tf.locals["settings_env"].items():
        match = lookup.fullmatch(str(value))
        if not match:
            # Derived values (buckets, topics, project, analyst, model) come from resources or variables.
            assert re.search(r"\$\{(var|local|google_\w+)\.", str(value)), f"{name} is neither tunable nor derived"
            continue
        tunable += 1
        assert match["name"] == name, f"{name} looks up the override of {match['name']}"
        literal = re.fullmatch(r'"(.*)"', match["default"])
        if literal is None:  # computed default (ANALYSIS_DEADLINE_S from the timeout)
            continue
        parsed = Settings.from_env({name: literal[1]}) if literal[1] else Settings()
        field_name = next(f.name for f in fields(Settings) if f.metadata["env"] == name)
        assert getattr(parsed, field_name) == defaults[name], f"{name} default differs from shared/settings.py"
    assert tunable >= 10


def test_analysis_deadline_leaves_time_inside_the_function_timeout(tf):
    value = tf.locals["settings_env"]["ANALYSIS_DEADLINE_S"]
    assert "var.analyze_function.timeout_seconds - 120" in value
    timeout = re.search(r"timeout_seconds = optional\(number, (\d+)\)", tf.variables["analyze_function"]["type"])
    assert int(timeout[1]) <= 540 and int(timeout[1]) - 120 >= 60


def test_run_lease_outlives_the_function_timeout(tf):
    value = tf.locals["settings_env"]["RUN_LEASE_S"]
    assert "var.analyze_function.timeout_seconds + 60" in value


def test_entry_points_match_the_function_names(tf):
    assert tf.locals["functions"] == {"analyze": {"entry_point": "analyze"}, "report": {"entry_point": "report"}}
    for name in ("analyze", "report"):
        build = _function(tf, name)["build_config"][0]
        assert build["entry_point"] == f"${{local.functions.{name}.entry_point}}"
        assert build["runtime"] == "${var.python_runtime}"
        source = build["source"][0]["storage_source"][0]
        assert source["object"] == f'${{google_storage_bucket_object.source["{name}"].name}}'
        assert source["bucket"] == "${google_storage_bucket.source.name}"


def test_source_object_name_carries_the_archive_hash(tf):
    obj = tf.resource("google_storage_bucket_object", "source")
    assert obj["name"] == "${each.key}-${data.archive_file.source[each.key].output_md5}.zip"
    assert obj["source"] == "${data.archive_file.source[each.key].output_path}"


def test_sizing_comes_from_variables_with_scale_to_zero(tf):
    for name in ("analyze", "report"):
        service = _function(tf, name)["service_config"][0]
        for key, attr in [("timeout_seconds", "timeout_seconds"), ("available_memory", "available_memory"),
                          ("max_instance_count", "max_instances"),
                          ("max_instance_request_concurrency", "concurrency")]:
            assert service[key] == f"${{var.{name}_function.{attr}}}"
        assert service["min_instance_count"] == 0
        assert service["ingress_settings"] == "ALLOW_INTERNAL_ONLY"
        assert service["service_account_email"] == f"${{google_service_account.{name}.email}}"


def test_analyze_is_triggered_by_finalized_objects_of_the_input_bucket(tf):
    trigger = _function(tf, "analyze")["event_trigger"][0]
    assert trigger["event_type"] == "google.cloud.storage.object.v1.finalized"
    assert trigger["retry_policy"] == "RETRY_POLICY_RETRY"
    assert trigger["service_account_email"] == "${google_service_account.trigger.email}"
    assert trigger["trigger_region"] == "${var.region}"
    assert trigger["event_filters"] == [{"attribute": "bucket", "value": "${google_storage_bucket.input.name}"}]


def test_trigger_bucket_is_not_the_reports_bucket(tf):
    trigger_bucket = _function(tf, "analyze")["event_trigger"][0]["event_filters"][0]["value"]
    reports_bucket = tf.locals["settings_env"]["REPORTS_BUCKET"]
    assert trigger_bucket != reports_bucket
    trigger_name = tf.resource("google_storage_bucket", trigger_bucket.split(".")[1])["name"]
    reports_name = tf.resource("google_storage_bucket", reports_bucket.split(".")[1])["name"]
    assert trigger_name != reports_name
    assert tf.locals["settings_env"]["INPUT_BUCKET"] == trigger_bucket


def test_report_function_has_no_event_trigger_and_is_fed_by_our_subscription(tf):
    assert "event_trigger" not in _function(tf, "report")
    sub = tf.resource("google_pubsub_subscription", "report")
    assert sub["topic"] == "${google_pubsub_topic.results.id}"
    push = sub["push_config"][0]
    assert push["push_endpoint"] == "${local.report_uri}/${google_pubsub_topic.results.id}"
    assert tf.locals["report_uri"] == "${google_cloudfunctions2_function.report.service_config[0].uri}"
    assert push["oidc_token"][0] == {
        "service_account_email": "${google_service_account.push.email}", "audience": "${local.report_uri}"}
    assert "no_wrapper" not in push, "functions-framework needs the wrapped push envelope"


def test_report_subscription_retries_then_dead_letters(tf):
    sub = tf.resource("google_pubsub_subscription", "report")
    assert sub["dead_letter_policy"][0] == {
        "dead_letter_topic": "${google_pubsub_topic.dead_letter.id}",
        "max_delivery_attempts": "${var.max_delivery_attempts}",
    }
    assert sub["retry_policy"][0] == {
        "minimum_backoff": "${var.retry_backoff_seconds.minimum}s",
        "maximum_backoff": "${var.retry_backoff_seconds.maximum}s",
    }
    # The ack deadline of a push is the time the function has to answer: at least its timeout.
    assert sub["ack_deadline_seconds"] == "${min(600, var.report_function.timeout_seconds + 60)}"
    dead = tf.resource("google_pubsub_subscription", "dead_letter")
    assert dead["topic"] == "${google_pubsub_topic.dead_letter.id}"


def test_alert_subscriptions(tf):
    critical = tf.resource("google_pubsub_subscription", "alerts_critical")
    assert critical["topic"] == "${google_pubsub_topic.alerts.id}"
    assert critical["filter"] == alert_filters.CRITICAL == 'attributes.severity = "critical"'
    webhook = tf.resource("google_pubsub_subscription", "alerts_webhook")
    assert webhook["filter"] == alert_filters.WEBHOOK
    assert webhook["count"] == '${var.alerts_webhook_url == "" ? 0 : 1}'
    assert webhook["push_config"][0]["push_endpoint"] == "${var.alerts_webhook_url}"
    tap = tf.resource("google_pubsub_subscription", "results_tap")
    assert tap["topic"] == "${google_pubsub_topic.results.id}" and "push_config" not in tap


def test_topics_and_subscriptions_retain_messages(tf):
    for name in ("results", "alerts", "dead_letter"):
        assert tf.resource("google_pubsub_topic", name)["message_retention_duration"] == "${local.message_retention}"
    for name, body in tf.resources["google_pubsub_subscription"].items():
        assert body["message_retention_duration"] == "${local.message_retention}", name
        assert body["expiration_policy"][0]["ttl"] == "", f"{name} would expire after 31 idle days"


# --- storage ------------------------------------------------------------------------------------


def test_buckets_are_private_versioned_and_expire_what_they_should(tf):
    buckets = tf.resources["google_storage_bucket"]
    assert set(buckets) == {"input", "reports", "source"}
    for name, body in buckets.items():
        assert body["uniform_bucket_level_access"] is True, name
        assert body["public_access_prevention"] == "enforced", name
        assert body["versioning"][0]["enabled"] is True, name
        assert body["location"] == "${var.region}", name
        assert body["force_destroy"] == "${var.force_destroy}", name
        assert body["dynamic"][-1]["encryption"]["for_each"] == '${var.kms_key_name == "" ? [] : [var.kms_key_name]}'
        rules = body.get("lifecycle_rule", [])
        assert any("days_since_noncurrent_time" in r["condition"][0] for r in rules), f"{name} keeps old versions forever"
    input_expiry = buckets["input"]["dynamic"][0]["lifecycle_rule"]
    assert input_expiry["for_each"] == "${var.input_retention_days > 0 ? [1] : []}"
    assert input_expiry["content"][0]["condition"][0]["age"] == "${var.input_retention_days}"


# --- IAM ----------------------------------------------------------------------------------------


def _iam_members(tf):
    return [(kind, name, body) for kind, name, body in tf.all_resources() if kind.endswith("_iam_member")]


def test_no_primitive_roles_and_no_authoritative_iam(tf):
    roles = [body["role"] for _, _, body in _iam_members(tf)]
    assert roles, "no IAM members parsed"
    assert not PRIMITIVE_ROLES & set(roles)
    assert "roles/storage.admin" not in roles
    assert not [k for k, _, _ in tf.all_resources() if k.endswith(("_iam_binding", "_iam_policy"))]


def test_project_wide_roles_are_only_those_with_no_narrower_scope(tf):
    project_roles = {body["role"] for kind, _, body in _iam_members(tf) if kind == "google_project_iam_member"}
    assert project_roles <= PROJECT_ROLES
    for _, _, body in _iam_members(tf):
        if body["role"].startswith("roles/storage."):
            assert "bucket" in body, "storage roles must be granted on a bucket"


def test_gcs_service_agent_can_publish_bucket_events(tf):
    binding = tf.resource("google_project_iam_member", "gcs_agent_publishes_events")
    assert binding["role"] == "roles/pubsub.publisher"
    assert binding["member"] == "serviceAccount:${local.gcs_service_agent}"
    assert tf.locals["gcs_service_agent"] == "${data.google_storage_project_service_account.gcs.email_address}"
    # The grant must be in effect before the trigger is created (through the propagation pause).
    assert _function(tf, "analyze")["depends_on"] == ["${time_sleep.iam_propagation}"]
    pause = tf.resource("time_sleep", "iam_propagation")["triggers"]
    assert pause["gcs_agent"] == "${google_project_iam_member.gcs_agent_publishes_events.id}"


def _grants(tf, member):
    return {(kind, body["role"], body.get("bucket") or body.get("topic") or body.get("service")
             or body.get("subscription") or body.get("repository") or body.get("project"))
            for kind, _, body in _iam_members(tf) if body["member"] == member}


def test_each_identity_gets_exactly_what_it_uses(tf):
    assert _grants(tf, "${google_service_account.analyze.member}") == {
        ("google_storage_bucket_iam_member", "roles/storage.objectViewer", "${google_storage_bucket.input.name}"),
        ("google_storage_bucket_iam_member", "roles/storage.objectAdmin", "${google_storage_bucket.reports.name}"),
        ("google_pubsub_topic_iam_member", "roles/pubsub.publisher", "${google_pubsub_topic.results.name}"),
        ("google_pubsub_topic_iam_member", "roles/pubsub.publisher", "${google_pubsub_topic.alerts.name}"),
        ("google_project_iam_member", "roles/aiplatform.user", "${var.project_id}"),
    }
    assert _grants(tf, "${google_service_account.report.member}") == {
        ("google_storage_bucket_iam_member", "roles/storage.objectAdmin", "${google_storage_bucket.reports.name}"),
    }
    assert _grants(tf, "${google_service_account.trigger.member}") == {
        ("google_project_iam_member", "roles/eventarc.eventReceiver", "${var.project_id}"),
        ("google_cloud_run_service_iam_member", "roles/run.invoker", "${google_cloudfunctions2_function.analyze.name}"),
    }
    assert _grants(tf, "${google_service_account.push.member}") == {
        ("google_cloud_run_service_iam_member", "roles/run.invoker", "${google_cloudfunctions2_function.report.name}"),
    }
    assert _grants(tf, "serviceAccount:${local.pubsub_agent}") == {
        ("google_pubsub_topic_iam_member", "roles/pubsub.publisher", "${google_pubsub_topic.dead_letter.name}"),
        ("google_pubsub_subscription_iam_member", "roles/pubsub.subscriber",
         "${google_pubsub_subscription.report.name}"),
    }


# --- monitoring and outputs ---------------------------------------------------------------------


def test_failed_analyses_metric_counts_the_run_finished_line(tf):
    metric = tf.resource("google_logging_metric", "failed_analyses")
    text = " ".join(metric["filter"].replace("\\\"", "\"").split())
    for clause in ('resource.type="cloud_run_revision"', 'jsonPayload.event="run_finished"',
                   'jsonPayload.outcome="failed"', 'resource.labels.service_name="${var.prefix}-analyze"'):
        assert clause in text
    assert _function(tf, "analyze")["name"] == "${var.prefix}-analyze"


def test_alert_policies_watch_the_metric_and_function_errors(tf):
    policies = tf.resources["google_monitoring_alert_policy"]
    failed = policies["failed_analyses"]["conditions"][0]["condition_threshold"][0]["filter"]
    assert "logging.googleapis.com/user/${google_logging_metric.failed_analyses.name}" in failed
    errors = policies["function_errors"]["conditions"][0]["condition_threshold"][0]["filter"]
    assert 'run.googleapis.com/request_count' in errors and '"5xx"' in errors
    for body in policies.values():
        assert body["notification_channels"] == "${var.alert_notification_channels}"


def test_outputs_cover_what_the_readme_uses(tf):
    assert {"input_bucket", "reports_bucket", "source_bucket", "results_topic", "alerts_topic",
            "dead_letter_topic", "analyze_function", "report_function", "try_it_command",
            "read_results_command", "results_tap_subscription"} <= set(tf.outputs)
    assert tf.outputs["try_it_command"]["value"].startswith("gcloud storage cp ")
    for name, body in tf.outputs.items():
        assert body.get("description"), f"output {name} has no description"
