"""Build each function's source archive exactly as terraform/functions.tf does.

Terraform's `archive_file` packs, for function NAME: every repository file matched by
`local.archive_include` (the shared package) under its own path, `functions/NAME/main.py` as
`main.py`, and `requirements.txt`. This module reads the same patterns from functions.tf, so the
archive the tests boot is the archive Terraform uploads. Entries are written the way the archive
provider writes content sources: sorted by name, deflated, with a fixed timestamp, so the same tree
gives the same bytes (and the same MD5, which names the uploaded object).

    python -m scripts.build_archives [--out build/functions] [analyze report]
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from scripts.terraform_config import REPO_ROOT, TERRAFORM_DIR, load

logger = logging.getLogger(__name__)

# The archive provider writes content entries without a modification time; ZIP's earliest is 1980.
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackagingRules:
    """What goes into the archives: shared-file patterns and the function names (from functions.tf)."""

    include: tuple[str, ...]
    functions: dict[str, str]  # function name -> entry point


def packaging_rules(terraform_dir: Path = TERRAFORM_DIR) -> PackagingRules:
    """Read `local.archive_include` and `local.functions` from the Terraform configuration."""
    config = load(terraform_dir)
    include = tuple(config.locals["archive_include"])
    functions = {name: spec["entry_point"] for name, spec in config.locals["functions"].items()}
    return PackagingRules(include=include, functions=functions)


def shared_files(repo_root: Path, include: tuple[str, ...]) -> list[str]:
    """Repository-relative paths matched by the patterns, like Terraform's fileset() (files only),
    leaving out __pycache__ as functions.tf does."""
    found: set[str] = set()
    for pattern in include:
        for path in repo_root.glob(pattern):
            relative = path.relative_to(repo_root).as_posix()
            if path.is_file() and "__pycache__" not in relative:
                found.add(relative)
    return sorted(found)


def archive_members(name: str, repo_root: Path = REPO_ROOT, rules: PackagingRules | None = None) -> dict[str, Path]:
    """Archive path -> file on disk, for function `name`."""
    rules = rules or packaging_rules()
    if name not in rules.functions:
        raise ValueError(f"unknown function {name!r}; functions.tf declares {sorted(rules.functions)}")
    members = {relative: repo_root / relative for relative in shared_files(repo_root, rules.include)}
    members["main.py"] = repo_root / "functions" / name / "main.py"
    members["requirements.txt"] = repo_root / "requirements.txt"
    return members


def build_archive(name: str, out_dir: Path, repo_root: Path = REPO_ROOT, rules: PackagingRules | None = None) -> Path:
    """Write `<out_dir>/<name>.zip` and return its path."""
    members = archive_members(name, repo_root, rules)
    missing = [str(path) for path in members.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"archive {name} needs files that do not exist: {', '.join(missing)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{name}.zip"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname in sorted(members):
            info = zipfile.ZipInfo(arcname, date_time=_FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, members[arcname].read_bytes())
    logger.info("built %s (%d files, %d bytes)", target, len(members), target.stat().st_size)
    return target


def object_name(name: str, archive: Path) -> str:
    """The source object name Terraform gives this archive: `<name>-<md5>.zip`."""
    return f"{name}-{hashlib.md5(archive.read_bytes()).hexdigest()}.zip"  # noqa: S324 - a name, not security


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="functions to package (default: all in functions.tf)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "functions", help="output folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rules = packaging_rules()
    for name in args.names or sorted(rules.functions):
        try:
            archive = build_archive(name, args.out, rules=rules)
        except (FileNotFoundError, ValueError) as err:
            logger.error("%s", err)
            return 1
        sys.stdout.write(f"{archive}\t{object_name(name, archive)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
