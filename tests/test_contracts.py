"""Settings, naming and message contracts: the pieces every other module relies on."""

from __future__ import annotations

import json

import pytest

from shared.errors import ConfigurationError, PermanentError
from shared.messages import AlertMessage, ErrorInfo, ResultMessage, Source
from shared.naming import chart_name, dataset_slug, run_id
from shared.settings import Settings, env_names
from shared.storage import LocalStore


def test_settings_read_typed_values_from_the_environment():
    s = Settings.from_env({"MAX_COLUMNS": "42", "ANALYSIS_DEADLINE_S": "12.5", "ANALYST": "local"})
    assert s.max_columns == 42 and s.analysis_deadline_s == 12.5 and s.analyst == "local"


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"MAX_COLUMNS": "many"}, "MAX_COLUMNS='many'"),
        ({"ANALYST": "gpt"}, "ANALYST must be"),
        ({"INPUT_BUCKET": "same", "REPORTS_BUCKET": "same"}, "must differ"),
        ({"MAX_FILE_BYTES": "0"}, "MAX_FILE_BYTES must be positive"),
    ],
)
def test_invalid_settings_name_the_variable(env, fragment):
    with pytest.raises(ConfigurationError, match=fragment.replace("(", r"\(")):
        Settings.from_env(env)


def test_env_names_are_unique_and_upper_case():
    names = env_names()
    assert len(names) == len(set(names))
    assert all(n == n.upper() for n in names)


def source(name: str, generation: str = "1") -> Source:
    return Source(bucket="in", name=name, generation=generation, size=10)


def test_run_id_is_stable_per_generation_and_differs_across_generations():
    assert run_id(source("a.csv")) == run_id(source("a.csv"))
    assert run_id(source("a.csv", "1")) != run_id(source("a.csv", "2"))


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a/../../b.csv", "x%2F..%2Fy.csv", "bad\x00\x1b[31mname.csv", "é t é.csv",
     "💥.csv", "a" * 2000 + ".csv", "..", ".csv", "COM1", "dir/sub/data.csv.gz"],
)
def test_dataset_slug_is_path_safe(name):
    slug = dataset_slug(name)
    assert slug and len(slug) <= 80
    assert "/" not in slug and ".." not in slug and slug.isascii()
    assert all(ch.isalnum() or ch == "-" for ch in slug)


def test_different_names_never_share_a_slug():
    names = ["Sales.csv", "sales.csv", "sales .csv", "a/sales.csv", "b/sales.csv", "sales.csv.gz", "sales!.csv"]
    assert len({dataset_slug(n) for n in names}) == len(names)


def test_chart_names_are_numbered_and_safe():
    assert chart_name(3, "Revenue by <b>product</b>") == "charts/03-revenue-by-b-product-b.png"
    assert chart_name(1, None) == "charts/01-chart.png"


def test_result_message_round_trips_and_carries_filter_attributes():
    message = ResultMessage(
        run_id="r1",
        source=source("sales.csv"),
        status="failed",
        dataset={"name": "sales"},
        artifacts_prefix="gs://reports/reports/sales/r1/",
        error=ErrorInfo.from_exception(PermanentError("bad file", code="invalid_csv")),
        alerts=[{"severity": "warning"}, {"severity": "critical"}],
    )
    again = ResultMessage.from_json(message.to_json())
    assert again == message
    attrs = message.attributes()
    assert attrs == {
        "schema_version": "1", "run_id": "r1", "status": "failed", "dataset": "sales",
        "severity": "critical", "analyst": "none",
    }
    assert all(isinstance(v, str) for v in attrs.values())


def test_result_message_rejects_another_schema_version():
    data = json.loads(
        ResultMessage(run_id="r", source=source("a.csv"), status="succeeded", dataset={"name": "a"},
                      artifacts_prefix="x").to_json()
    )
    data["schema_version"] = 2
    with pytest.raises(ValueError, match="schema_version"):
        ResultMessage.from_dict(data)


def test_alert_attributes_mark_repeats():
    alert = AlertMessage(rule="r", severity="critical", dataset="d", run_id="x", message="m", repeat=True)
    assert alert.attributes()["repeat"] == "true"


def test_local_store_writes_atomically_and_honours_if_absent(tmp_path):
    store = LocalStore(tmp_path)
    assert store.write("b", "a/b.txt", b"one", "text/plain", if_absent=True)
    assert not store.write("b", "a/b.txt", b"two", "text/plain", if_absent=True)
    assert store.read("b", "a/b.txt") == b"one"
    assert not list((tmp_path / "a").glob(".tmp-*"))
    with pytest.raises(ValueError):
        store.write("b", "../escape.txt", b"x", "text/plain")
    with pytest.raises(PermanentError):
        store.read("b", "missing")
