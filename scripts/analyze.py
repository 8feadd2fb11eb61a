"""Run the pipeline in-process on local files: `make analyze FILE=<file or folder> [OUT=dir]`.

The same shared code as the Cloud Functions (run_analysis → publish_result → write_report), with a
local folder standing in for the reports bucket and an in-memory publisher. Reports land in
OUT/<dataset>/<run_id>/report.md.
"""

from __future__ import annotations

import argparse
import logging
import mimetypes
import sys
import time
from pathlib import Path

from shared.messages import Source
from shared.naming import dataset_slug, run_id
from shared.pipeline import ReportPaths, Services, artifacts_prefix, publish_result, run_analysis, write_report
from shared.pubsub import MemoryPublisher
from shared.settings import Settings
from shared.storage import LocalStore

PROMPT_SUFFIX = ".prompt.md"


def find_files(target: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Data files under ``target`` (or ``target`` itself), in a stable order; sidecars excluded."""
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise SystemExit(f"error: {target} does not exist")
    return sorted(
        p
        for p in target.rglob("*")
        if p.is_file() and p.name.lower().endswith(suffixes) and not p.name.endswith(PROMPT_SUFFIX)
    )


def source_for(path: Path, root: Path) -> Source:
    stat = path.stat()
    name = path.name if root.is_file() else path.relative_to(root).as_posix()
    content_type = mimetypes.guess_type(path.name)[0] or "text/csv"
    # The modification time plays the role of the object generation: an edited file is a new run.
    return Source(bucket="local", name=name, generation=str(stat.st_mtime_ns), size=stat.st_size,
                  content_type=content_type)


def questions_for(path: Path) -> str | None:
    sidecar = path.with_name(path.name + PROMPT_SUFFIX)
    return sidecar.read_text(encoding="utf-8") if sidecar.is_file() else None


def analyze_file(path: Path, root: Path, services: Services, out: Path, say) -> tuple[str, ReportPaths | None, str]:
    """Returns (status, paths, detail) for one file."""
    settings = services.settings
    source = source_for(path, root)
    prefix = artifacts_prefix(settings, dataset_slug(source.name), run_id(source))
    if services.store.exists(settings.reports_bucket, prefix + "report.md"):
        return "unchanged", None, str(out / prefix / "report.md")
    message = run_analysis(source, path, services, questions=questions_for(path), progress=say)
    publish_result(message, services)
    say("writing the report")
    paths = write_report(message, services)
    detail = message.error.message if message.error else f"{len(message.insights)} insights"
    return message.status, paths, detail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path, help="a CSV file or a folder of them")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    settings = Settings.from_env().with_(reports_prefix="")
    out: Path = args.out
    services = Services(settings=settings, store=LocalStore(out), publisher=MemoryPublisher())
    files = find_files(args.target, settings.suffixes)
    if not files:
        print(f"no data files ({', '.join(settings.suffixes)}) under {args.target}")
        return 1

    results: list[tuple[Path, str, str]] = []
    for index, path in enumerate(files, start=1):
        started = time.perf_counter()
        label = f"[{index}/{len(files)}] {path}"

        def say(stage: str, label: str = label, started: float = started) -> None:
            print(f"{label}: {stage} ({time.perf_counter() - started:.1f} s)", flush=True)

        status, paths, detail = analyze_file(path, args.target, services, out, say)
        report = str(out / paths.report) if paths else detail
        results.append((path, status, report))
        note = "" if status != "failed" else f" — {detail}"
        print(f"{label}: {status} in {time.perf_counter() - started:.1f} s{note}\n    report: {report}", flush=True)

    failed = sum(1 for _, status, _ in results if status == "failed")
    print(f"\n{len(results) - failed} of {len(results)} file(s) analysed; reports under {out}/:")
    for path, status, report in results:
        print(f"  {status:<10} {report}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
