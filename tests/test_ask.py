"""Free-form prompts (make ask): validation, exit status, and the fake server's reference examples."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import ask as ask_cli
from scripts.fake_gemini import respond
from shared.ask import run_prompt
from shared.settings import Settings
from tests.gemini_data import chart_png
from tests.gemini_server import GeminiServer, answer, code, http_error, image, result, text

ROOT = Path(__file__).resolve().parents[1]


def env_for(server: GeminiServer) -> dict[str, str]:
    return {"GEMINI_API_KEY": "k", "GOOGLE_GEMINI_BASE_URL": server.url}


def test_text_answer_keeps_code_and_output_and_sends_the_tool():
    script = [answer([code("print(sum([2, 3, 5]))"), result("10\n"), text("The sum is 10.")], tool=30)]
    with GeminiServer(script) as server:
        out = run_prompt("Sum the first three primes", "text", Settings(), environ=env_for(server))
    assert out.ok and not out.follow_up
    assert [p.kind.value for p in out.parts] == ["code", "result", "text"]
    assert out.usage.tool_use_prompt_tokens == 30 and out.usage.code_cells == 1
    body = server.requests[0].body
    assert (
        body["tools"] == [{"codeExecution": {}}]
        and "code execution" in body["systemInstruction"]["parts"][0]["text"]
    )


def test_expected_image_missing_twice_fails_validation_after_one_follow_up():
    no_image = answer([code("plt.plot([1, 2])"), result(""), text("Here is the chart.")])
    with GeminiServer([no_image, no_image]) as server:
        out = run_prompt("Plot y = x", "image", Settings(), environ=env_for(server))
    assert not out.ok and out.follow_up and [p.code for p in out.problems] == ["missing_chart"]
    assert len(server.requests) == 2
    assert "plt.show()" in server.requests[0].all_text()


def test_cli_exit_status_and_saved_images(monkeypatch, tmp_path, capsys):
    png = chart_png()
    script = [
        answer([code("plt.title('Growth of savings')\nplt.show()"), result(""), image(png), text("Done.")]),
        answer(
            [
                code("1/0"),
                result(
                    "Traceback (most recent call last):\nZeroDivisionError: division by zero",
                    "OUTCOME_FAILED",
                ),
            ]
        ),
        answer([code("1/0"), result("ZeroDivisionError: division by zero", "OUTCOME_FAILED")]),
        http_error(400, "INVALID_ARGUMENT", "bad request"),
    ]
    with GeminiServer(script) as server:
        for name, value in env_for(server).items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
        monkeypatch.delenv("GOOGLE_GENAI_USE_VERTEXAI", raising=False)
        assert ask_cli.main(["Plot savings", "--expect", "image", "--out", str(tmp_path)]) == 0
        saved = tmp_path / "ask" / "01-growth-of-savings.png"
        assert saved.read_bytes() == png
        assert ask_cli.main(["Divide", "--out", str(tmp_path)]) == 1
        err = capsys.readouterr().err
        assert "validation failed (failed_cell)" in err and "ZeroDivisionError" in err
        assert ask_cli.main(["Bad", "--out", str(tmp_path)]) == 2
        assert "permanent, gemini_invalid_request" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("prompt", "expect", "must_print"),
    [
        (
            "Calculate the compound interest on $10,000 at 5% for 10 years, compounded monthly",
            "text",
            "final amount: 16,470.09",
        ),
        (
            "Make a loan amortization schedule for a $200,000 loan at 6% over 30 years with an extra "
            "payment of $200 "
            "per month and chart the balance",
            "image",
            "paid off 108 months earlier",
        ),
        ("List the first 20 prime numbers and their sum", "text", "sum: 639"),
    ],
)
def test_reference_examples_through_the_cli_against_the_fake_server(prompt, expect, must_print, tmp_path):
    with GeminiServer(responder=respond) as server:
        env = {**os.environ, **env_for(server)}
        env.pop("GOOGLE_API_KEY", None)
        env.pop("GOOGLE_GENAI_USE_VERTEXAI", None)
        proc = subprocess.run(
            [sys.executable, "-m", "scripts.ask", prompt, "--expect", expect, "--out", str(tmp_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert must_print in proc.stdout and "--- code (cell 1)" in proc.stdout
    images = list((tmp_path / "ask").glob("*.png")) if (tmp_path / "ask").exists() else []
    assert len(images) == (1 if expect == "image" else 0)
    if images:
        assert (
            images[0].read_bytes().startswith(b"\x89PNG")
            and images[0].name == "01-loan-balance-over-time.png"
        )
