"""Variable validations evaluated by the real Terraform (``terraform console``, no providers needed)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from scripts.terraform_config import TERRAFORM_DIR


def accepted(tmp_path, variable: str, value: str) -> bool:
    """Whether Terraform accepts ``value`` for ``variable`` (its block copied from variables.tf)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed (install Terraform >= 1.5 to check validations)")
    text = (TERRAFORM_DIR / "variables.tf").read_text(encoding="utf-8")
    block = re.search(rf'variable "{variable}" {{.*?\n}}\n', text, re.DOTALL)
    assert block, variable
    (tmp_path / "variables.tf").write_text(block.group(0))
    result = subprocess.run(
        [terraform, "console", "-var", f"{variable}={value}"],
        check=False,
        input=f"var.{variable}.concurrency\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    # console reports a failed validation on stderr but still exits 0 (it goes on with the value)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    if "Invalid value for variable" not in output:
        return True
    assert "needs available_cpu of at least 1" in output, output
    return False


@pytest.mark.parametrize("variable", ["analyze_function", "report_function"])
@pytest.mark.parametrize(
    ("sizing", "ok"),
    [
        ('{concurrency = 1, available_cpu = "0.5"}', True),  # fractional CPU, one request at a time
        ('{concurrency = 2, available_cpu = "0.5"}', False),  # Cloud Run refuses concurrency > 1 below 1 vCPU
        ('{concurrency = 2, available_cpu = "999m"}', False),
        ('{concurrency = 2, available_cpu = "1"}', True),
        ('{concurrency = 2, available_cpu = "2000m"}', True),
        ('{concurrency = 2, available_cpu = "lots"}', False),
        ("{}", True),  # the defaults
    ],
)
def test_concurrency_above_one_needs_a_whole_cpu(tmp_path, variable, sizing, ok):
    assert accepted(tmp_path, variable, sizing) is ok
