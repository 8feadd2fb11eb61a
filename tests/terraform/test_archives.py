"""The functions' source archives: built by the same rules as Terraform's archive_file, reproducible,
complete, and bootable (extracted into an empty folder, requirements.txt installed into a fresh
virtual environment, served by functions-framework, answering a CloudEvent)."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from scripts.build_archives import archive_members, build_archive, object_name, packaging_rules, shared_files
from scripts.terraform_config import REPO_ROOT, load

FUNCTIONS = ("analyze", "report")


# --- the rules are the ones functions.tf uses ---------------------------------------------------


def test_functions_tf_packs_the_files_the_script_packs():
    tf = load()
    assert " ".join(tf.locals["shared_files"].split()) == (
        '${sort(distinct(flatten([for pattern in local.archive_include : '
        '[for f in fileset(local.repo_root, pattern) : f if !strcontains(f, "__pycache__")]])))}'
    )
    assert tf.locals["archive_files"] == (
        '${{for name in keys(local.functions) : name => merge({for f in local.shared_files : f => f}, '
        '{"main.py" = "functions/${name}/main.py", "requirements.txt" = "requirements.txt"})}}'
    )
    archive = tf.data["archive_file"]["source"]
    assert archive["type"] == "zip" and archive["for_each"] == "${local.functions}"
    source = archive["dynamic"][0]["source"]
    assert source["for_each"] == "${local.archive_files[each.key]}"
    assert source["content"] == [{"filename": "${source.key}", "content": '${file("${local.repo_root}/${source.value}")}'}]
    rules = packaging_rules()
    assert rules.include == tuple(tf.locals["archive_include"])
    assert set(rules.functions) == set(FUNCTIONS)


def test_every_file_of_the_shared_package_is_packed():
    # archive_file only reads text with file(): a file type no pattern covers would silently stay behind.
    rules = packaging_rules()
    on_disk = sorted(
        p.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "shared").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    uncovered = [f for f in on_disk if not any(fnmatch.fnmatch(f, pattern.replace("**/", "*")) for pattern in rules.include)]
    assert uncovered == [], "add a pattern to local.archive_include in terraform/functions.tf"
    assert shared_files(REPO_ROOT, rules.include) == on_disk


def test_function_folders_hold_only_their_entry_file():
    # Only functions/<name>/main.py is packed; anything else there would be missing in the cloud.
    for name in FUNCTIONS:
        folder = REPO_ROOT / "functions" / name
        extra = [p.name for p in folder.iterdir() if p.name not in {"main.py", "__pycache__"}] if folder.exists() else []
        assert extra == [], f"functions/{name} has files the archive would not contain: {extra}"


def _fake_repo(root: Path) -> Path:
    """A copy of the packaged parts of the repository with stand-in entry files."""
    shutil.copytree(REPO_ROOT / "shared", root / "shared", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "shared" / "__pycache__").mkdir()
    (root / "shared" / "__pycache__" / "junk.py").write_text("# compiled leftovers are never packed\n")
    shutil.copy(REPO_ROOT / "requirements.txt", root / "requirements.txt")
    for name in FUNCTIONS:
        (root / "functions" / name).mkdir(parents=True)
        (root / "functions" / name / "main.py").write_text(f"ENTRY = {name!r}\n")
    return root


def test_archive_layout_is_entry_shared_and_requirements(tmp_path):
    repo = _fake_repo(tmp_path / "repo")
    archive = build_archive("report", tmp_path / "out", repo_root=repo)
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert names == sorted(names)
        assert zf.read("main.py") == b"ENTRY = 'report'\n"
        assert zf.read("requirements.txt") == (REPO_ROOT / "requirements.txt").read_bytes()
        assert "shared/settings.py" in names and "shared/__init__.py" in names
        assert not [n for n in names if "__pycache__" in n or n.startswith("functions/")]
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in zf.infolist())


def test_archive_is_reproducible_and_its_name_follows_the_content(tmp_path):
    repo = _fake_repo(tmp_path / "repo")
    first = build_archive("analyze", tmp_path / "a", repo_root=repo)
    again = build_archive("analyze", tmp_path / "b", repo_root=repo)
    assert first.read_bytes() == again.read_bytes()
    name = object_name("analyze", first)
    assert name == f"analyze-{hashlib.md5(first.read_bytes()).hexdigest()}.zip"  # noqa: S324

    (repo / "shared" / "settings.py").write_text((repo / "shared" / "settings.py").read_text() + "\n# changed\n")
    changed = build_archive("analyze", tmp_path / "c", repo_root=repo)
    assert object_name("analyze", changed) != name, "a code change must give a new object name (redeploy)"


def test_missing_entry_file_is_reported(tmp_path):
    repo = _fake_repo(tmp_path / "repo")
    (repo / "functions" / "analyze" / "main.py").unlink()
    with pytest.raises(FileNotFoundError, match="functions/analyze/main.py"):
        build_archive("analyze", tmp_path / "out", repo_root=repo)


# --- boot ---------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def function_venvs(tmp_path_factory):
    """One fresh virtual environment per distinct requirements.txt (both archives carry the same
    file, so the ~30 s install happens once per session)."""
    cache: dict[str, Path] = {}

    def venv_for(requirements: Path) -> Path:
        key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
        if key not in cache:
            venv = tmp_path_factory.mktemp(f"venv-{key}")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            install = subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(requirements)],
                capture_output=True, text=True, timeout=900,
            )
            assert install.returncode == 0, f"pip install -r requirements.txt failed:\n{install.stderr[-4000:]}"
            cache[key] = venv
        return cache[key]

    return venv_for


class _Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode()


@pytest.fixture
def serve(tmp_path, function_venvs):
    """Extract the archive into an empty folder, install its requirements.txt into a fresh venv, and
    serve it with functions-framework, with only the deployment's settings in the environment."""
    started: list[_Server] = []

    def start(name: str) -> _Server:
        archive = build_archive(name, tmp_path / "archives")
        folder = tmp_path / f"{name}-src"
        folder.mkdir()
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(folder)
        venv = function_venvs(folder / "requirements.txt")
        port, dead = _free_port(), _free_port()
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(tmp_path),
            "GOOGLE_CLOUD_PROJECT": "boot-test",
            "INPUT_BUCKET": "boot-input",
            "REPORTS_BUCKET": "boot-reports",
            "RESULTS_TOPIC": "boot-results",
            "ALERTS_TOPIC": "boot-alerts",
            "ANALYST": "local",
            # Any client the code creates points at a closed loopback port, so a call that should not
            # happen fails fast instead of reaching out; metadata-server probes stay on loopback too.
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{dead}",
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{dead}",
            "GCE_METADATA_HOST": f"127.0.0.1:{dead}",
            "GCE_METADATA_IP": f"127.0.0.1:{dead}",
            "NO_GCE_CHECK": "True",
        }
        log = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [str(venv / "bin" / "functions-framework"), "--target", name, "--signature-type", "cloudevent",
             "--source", "main.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )
        server = _Server(process, port, log)
        started.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"functions-framework exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return server
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"{name} did not start listening within 60 s:\n{log.read_text()[-4000:]}")

    yield start
    for server in started:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _run_finished(server: _Server) -> list[dict]:
    """The run_finished log lines the function wrote (each run ends with exactly one)."""
    deadline = time.monotonic() + 10
    while True:
        lines = []
        for line in server.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == "run_finished":
                lines.append(record)
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


@pytest.mark.slow
def test_analyze_archive_boots_and_skips_an_object_that_is_not_data(serve):
    server = serve("analyze")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    data = {"bucket": "boot-input", "name": "image.png", "generation": "1700000000000001", "size": "10",
            "contentType": "image/png", "md5Hash": "", "metadata": {}, "timeCreated": now, "updated": now}
    headers = {  # binary mode, as Eventarc sends it
        "Content-Type": "application/json",
        "ce-id": "boot-1",
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.storage.object.v1.finalized",
        "ce-source": "//storage.googleapis.com/projects/_/buckets/boot-input",
        "ce-subject": "objects/image.png",
        "ce-time": now,
    }
    status, response_headers, body = server.post("/", json.dumps(data).encode(), headers)
    assert status == 200, f"{status} {body}\n{server.log.read_text()[-4000:]}"
    assert "X-Google-Status" not in response_headers
    [finished] = _run_finished(server)
    assert (finished["function"], finished["outcome"]) == ("analyze", "skipped")


@pytest.mark.slow
def test_report_archive_boots_and_acks_a_malformed_result_message(serve):
    server = serve("report")
    # The standard Pub/Sub push envelope our subscription sends, at the endpoint path Terraform sets.
    envelope = {
        "message": {"data": base64.b64encode(b"not a result message").decode(), "attributes": {},
                    "messageId": "boot-1", "publishTime": datetime.now(timezone.utc).isoformat()},
        "subscription": "projects/boot-test/subscriptions/csv-insights-report-push",
    }
    status, _, body = server.post(
        "/projects/boot-test/topics/boot-results", json.dumps(envelope).encode(), {"Content-Type": "application/json"}
    )
    # A message that can never be parsed is a permanent error: acknowledged (2xx), not retried into
    # the dead-letter topic.
    assert 200 <= status < 300, f"{status} {body}\n{server.log.read_text()[-4000:]}"
    [finished] = _run_finished(server)
    assert (finished["function"], finished["outcome"]) == ("report", "failed")
    assert finished["error_code"], "a failed run names its error code"
