"""Read the Terraform configuration in terraform/ as plain Python data (with python-hcl2).

Used by scripts/build_archives.py (the packaging rules live in functions.tf) and by the structural
tests. Terraform itself is not needed: the google provider cannot be downloaded on every machine, so
these checks work on the source text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
TERRAFORM_DIR = REPO_ROOT / "terraform"


@dataclass
class TerraformConfig:
    """Every top-level block of a configuration, merged over its .tf files."""

    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resource(self, kind: str, name: str) -> dict[str, Any]:
        """The body of one resource block (KeyError if it is not declared)."""
        return self.resources[kind][name]

    def all_resources(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(type, name, body) of every managed resource."""
        return [(kind, name, body) for kind, named in self.resources.items() for name, body in named.items()]


def load(directory: Path = TERRAFORM_DIR) -> TerraformConfig:
    """Parse every .tf file in `directory` (not recursive, like Terraform's root module)."""
    import hcl2
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(
        with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
    )
    config = TerraformConfig()
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle, serialization_options=options)
        config.files[path.name] = parsed
        for block in parsed.get("variable", []):
            config.variables.update(block)
        for block in parsed.get("output", []):
            config.outputs.update(block)
        for block in parsed.get("locals", []):
            config.locals.update(block)
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                config.resources.setdefault(kind, {}).update(named)
        for block in parsed.get("data", []):
            for kind, named in block.items():
                config.data.setdefault(kind, {}).update(named)
    return config
