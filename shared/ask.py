"""One free-form, code-executed Gemini prompt (no CSV): the reference examples that are not data files.

``run_prompt("Calculate compound interest on $10,000 at 5% for 10 years", "text", settings)`` sends the
prompt with the code execution tool, keeps every part (text, executed code, outputs, images), validates
it with the same rules as the analyst (failed or timed-out cells, tracebacks, a missing image when one
was expected, blocked/empty/truncated answers), gives a fixable problem one follow-up turn, and returns
the result with the problems that remain. Transport and configuration errors raise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.analysts.base import Part, PartKind, Usage
from shared.analysts.gemini import GeminiAnalyst
from shared.analysts.gemini_prompts import ASK_SYSTEM_INSTRUCTION
from shared.analysts.validation import Problem, check_turn, follow_up_prompt
from shared.settings import Settings

EXPECTS = ("text", "image")


@dataclass
class AskResult:
    prompt: str
    expect: str
    model: str
    parts: list[Part]
    usage: Usage
    problems: list[Problem] = field(default_factory=list)
    follow_up: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def images(self) -> list[Part]:
        return [p for p in self.parts if p.kind is PartKind.IMAGE]


def run_prompt(
    prompt: str,
    expect: str = "text",
    settings: Settings | None = None,
    *,
    client: Any = None,
    environ: Mapping[str, str] | None = None,
) -> AskResult:
    """Run one code-executed prompt; ``expect`` is "text" or "image" (a chart must come back)."""
    if expect not in EXPECTS:
        raise ValueError(f"expect must be one of {EXPECTS}, not {expect!r}")
    settings = settings or Settings.from_env()
    analyst = GeminiAnalyst(settings, client=client, environ=environ)
    chat = analyst.chat(ASK_SYSTEM_INSTRUCTION, time.monotonic() + settings.analysis_deadline_s)
    text = prompt.strip()
    if expect == "image":
        text += "\n\nDraw the requested chart with matplotlib inside the executed code and call plt.show()."
    turn = chat.send([text])
    parts = list(turn.parts)
    problems = check_turn(
        parts,
        finish_reason=turn.finish_reason,
        block_reason=turn.block_reason,
        expect_image=expect == "image",
        expect_text=expect == "text",
    )
    follow_up = False
    if problems and all(p.fixable for p in problems):
        follow_up = True
        second = chat.send([follow_up_prompt(problems)])
        parts.extend(second.parts)
        problems = check_turn(
            second.parts,
            finish_reason=second.finish_reason,
            block_reason=second.block_reason,
            expect_image=expect == "image",
            expect_text=expect == "text",
        )
    return AskResult(prompt, expect, analyst.model, parts, chat.usage, problems, follow_up)
