"""Hostile object names and oversized inputs, in process (LocalStore) and on the live stack.

Names: every report path stays under REPORTS_PREFIX, is a plain path, and two different names never
share a report folder. Limits: each limit fails the run with its own code before memory is spent.
"""

from __future__ import annotations

import tracemalloc
import uuid
import zlib

import pytest

from shared.messages import Source
from shared.naming import run_id
from shared.pipeline import Services, run_analysis, write_report
from shared.pubsub import MemoryPublisher
from shared.settings import Settings
from shared.storage import LocalStore
from tests.stack.conftest import wait_for

HOSTILE_NAMES = [
    "../../etc/passwd.csv",
    "..%2F..%2Freports%2F_runs%2Fx.csv",
    "reports/../../escape.csv",
    "a/b.csv",
    "a%2Fb.csv",
    "a_b.csv",
    "a b.csv",
    "A B.csv",
    "tab\there.csv",
    "bell\x07\x1b[31mred.csv",
    "nul-ish\x00name.csv",
    "rtl\u202egnp.csv",
    "données été 📈.csv",
    "日本語のファイル.csv",
    " leading and trailing .csv",
    ".csv",
    "..csv",
    "/absolute/path.csv",
    "x" * 1000 + ".csv",
    "x" * 1000 + "y.csv",
    "_runs.csv",
    "latest.md.csv",
]


def _report_folder(name: str, settings: Settings, root) -> tuple[str, str]:
    services = Services(settings=settings, store=LocalStore(root), publisher=MemoryPublisher())
    source = Source("in", name, "1", 0, "text/csv")
    message = run_analysis(source, b"", services)  # an empty file fails at once: no analyst run
    paths = write_report(message, services)
    return paths.report, message.run_id


def test_hostile_names_map_to_unique_folders_under_the_reports_prefix(tmp_path, tally):
    settings = Settings(analyst="local")
    folders = {}
    for name in HOSTILE_NAMES:
        report, _ = _report_folder(name, settings, tmp_path)
        tally.hostile_input("hostile object name")
        assert report.startswith(settings.reports_prefix), name
        parts = report.split("/")
        assert ".." not in parts and "" not in parts and "." not in parts, report
        assert all(c.isascii() and c.isprintable() for c in report), report
        assert len(report) < 200
        folders[name] = report.rsplit("/", 1)[0]
    assert len(set(folders.values())) == len(HOSTILE_NAMES)  # no two names share a folder
    # Everything written is inside the store root, under the prefix.
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.relative_to(tmp_path).parts[0] == "reports" for p in written)
    reports = [p for p in written if p.name == "report.md"]
    assert len(reports) == len(HOSTILE_NAMES)
    for _ in reports:
        tally.file_checked(1)


@pytest.mark.emulators
def test_hostile_names_on_the_live_stack_get_one_report_each_under_the_prefix(live, tally):
    tag = uuid.uuid4().hex[:6]
    names = [
        f"up/{tag}/../{tag}-dots.csv",
        f"up/{tag}/a%2Fb.csv",
        f"up/{tag}/a/b.csv",
        f"up/{tag}/tab\tand \x1b[31m.csv",
        f"up/{tag}/données 📈.csv",
        f"up/{tag}/" + "z" * 900 + ".csv",
    ]
    csv = b"day,units\n" + b"".join(f"2026-01-{d:02d},{d * 3 % 7}\n".encode() for d in range(1, 11))
    rids = {}
    for name in names:
        blob = live.upload(name, csv)
        rids[name] = run_id(Source(blob.bucket.name, blob.name, str(blob.generation), blob.size or 0))
        tally.hostile_input("hostile object name (live)")
    reports = {}
    for name, rid in rids.items():
        found = wait_for(lambda rid=rid: live.report_names(rid), 90, f"the report of {name!r}")
        tally.file_checked(len(found))
        assert len(found) == 1, found
        reports[name] = found[0]
    prefix = live.settings.reports_prefix
    assert all(r.startswith(prefix) and ".." not in r.split("/") for r in reports.values())
    assert len({r.rsplit("/", 1)[0] for r in reports.values()}) == len(names)


def gzip_bomb(decompressed_mib: int) -> bytes:
    """A .gz of ``decompressed_mib`` MiB of one repeated row, built in chunks (never whole in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"0,0\n" * (1024 * 256)
    out = [packer.compress(b"a,b\n")]
    out += [packer.compress(chunk) for _ in range(decompressed_mib)]
    out.append(packer.flush())
    return b"".join(out)


WIDE = (",".join(f"c{i}" for i in range(100_000)) + "\n1\n").encode()
LIMIT_CASES = {
    "gzip bomb (256 MiB inflated, limit 64 MiB)": (
        "bomb.csv.gz",
        lambda: gzip_bomb(256),
        "decompressed_too_large",
        "MAX_DECOMPRESSED_BYTES",
    ),
    "100,000 columns": ("wide.csv", lambda: WIDE, "too_many_columns", "MAX_COLUMNS"),
    "one 50 MB cell": (
        "cell.csv",
        lambda: b"a,b\n1," + b"x" * 50_000_000 + b"\n",
        "cell_too_long",
        "MAX_CELL_CHARS",
    ),
    "unclosed quote": (
        "quote.csv",
        lambda: b'a,b\n1,"' + b"y" * 2_000_000 + b"\n2,3\n",
        "cell_too_long",
        "MAX_CELL_CHARS",
    ),
    "over the byte limit": ("big.csv", lambda: b"a,b\n" + b"1,2\n" * 300_000, "too_large", "MAX_FILE_BYTES"),
}


@pytest.fixture(scope="module")
def bomb_cache():
    return {}


@pytest.mark.parametrize("case", list(LIMIT_CASES))
def test_each_limit_gives_its_own_failure_report_before_memory_is_spent(case, tmp_path, tally, bomb_cache):
    name, make, code, setting = LIMIT_CASES[case]
    data = bomb_cache.setdefault(case, make())
    settings = Settings(
        analyst="local",
        max_file_bytes=1_000_000 if case == "over the byte limit" else 512 * 1024**2,
        max_decompressed_bytes=64 * 1024**2,
        max_cell_chars=100_000,
    )
    services = Services(settings=settings, store=LocalStore(tmp_path), publisher=MemoryPublisher())
    loaded = []
    tracemalloc.start()
    try:
        message = run_analysis(
            Source("in", name, "1", len(data), "text/csv"), lambda: loaded.append(1) or data, services
        )
        peak_mb = tracemalloc.get_traced_memory()[1] / 1024**2
    finally:
        tracemalloc.stop()
    tally.hostile_input("oversized input")
    assert message.status == "failed" and message.error.code == code, message.error
    assert setting in message.error.message
    if code == "too_large":
        assert loaded == []  # refused from the declared size: never downloaded
    # Python-level allocations during the run (numpy and bytes included): far below the input's size.
    assert peak_mb < 200, f"peak {peak_mb:.0f} MB"
    paths = write_report(message, services)
    report = (tmp_path / paths.report).read_text()
    assert setting in report.replace("\\_", "_")
    tally.file_checked(1)
