"""Named problems in one analyst turn, and the follow-up prompt that says exactly what failed.

Pure functions over our own parts (no SDK types), so the rules are tested without a server. A problem
is *fixable* when one more turn can plausibly repair it (a failed cell, a traceback, a missing chart, a
truncated answer that still has content); the rest (blocked prompt or answer, empty answer, truncation
with nothing produced) end the analysis as a permanent failure under the problem's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from shared.analysts.base import Outcome, Part, PartKind

TRACEBACK = "Traceback (most recent call last)"
# Finish reasons that mean the answer was withheld for policy reasons.
_BLOCKING_FINISH = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "LANGUAGE",
}
_ODD_FINISH = {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "OTHER", "NO_IMAGE", "IMAGE_OTHER"}


@dataclass(frozen=True)
class Problem:
    code: str  # failed_cell | cell_deadline_exceeded | traceback | missing_chart | missing_text |
    #            missing_insights | max_tokens | max_tokens_empty | empty_response | blocked_prompt |
    #            blocked_response | unexpected_finish
    message: str
    fixable: bool

    @property
    def safety(self) -> bool:
        return self.code in {"blocked_prompt", "blocked_response"}


def check_turn(
    parts: list[Part],
    *,
    finish_reason: str | None,
    block_reason: str | None = None,
    expect_image: bool = False,
    expect_text: bool = True,
) -> list[Problem]:
    """Every problem in one model turn, in a stable order (blocking first)."""
    if block_reason:
        return [Problem("blocked_prompt", f"the prompt was blocked (blockReason {block_reason})", False)]
    finish = (finish_reason or "").upper() or None
    if finish in _BLOCKING_FINISH:
        return [Problem("blocked_response", f"the answer was blocked (finishReason {finish})", False)]
    if not parts:
        if finish == "MAX_TOKENS":
            return [
                Problem(
                    "max_tokens_empty",
                    "the answer hit the output token limit (MAX_TOKENS) before producing any part",
                    False,
                )
            ]
        return [
            Problem("empty_response", f"the answer had no parts (finishReason {finish or 'none'})", False)
        ]

    problems: list[Problem] = []
    if finish == "MAX_TOKENS":
        problems.append(
            Problem("max_tokens", "the answer was cut off at the output token limit (MAX_TOKENS)", True)
        )
    elif finish in _ODD_FINISH:
        problems.append(
            Problem("unexpected_finish", f"the answer ended abnormally (finishReason {finish})", False)
        )
    problems.extend(unfixed_cell_problems(parts))
    if expect_image and not any(p.kind is PartKind.IMAGE for p in parts):
        problems.append(
            Problem(
                "missing_chart",
                "charts were asked for but the answer contains no image "
                "(call plt.show() after each figure inside the executed code)",
                True,
            )
        )
    if (
        expect_text
        and not any(p.kind is PartKind.TEXT and (p.text or "").strip() for p in parts)
        and not any(p.kind is PartKind.RESULT and (p.output or "").strip() for p in parts)
    ):
        problems.append(Problem("missing_text", "the answer contains neither text nor printed output", True))
    return problems


def unfixed_cell_problems(parts: list[Part]) -> list[Problem]:
    """Failed, timed-out or traceback-printing cells that no later clean cell in the turn superseded.

    The model may fix its own error in the same turn (Gemini regenerates code after a failure): a failure
    followed by a clean OK result counts as fixed.
    """
    results = [(i, p) for i, p in enumerate(parts) if p.kind is PartKind.RESULT]
    problems: list[Problem] = []
    for n, (i, part) in enumerate(results, start=1):
        bad = _cell_problem(part, n, _code_before(parts, i))
        if bad is None:
            continue
        fixed = any(_cell_problem(later, 0, None) is None for j, later in results if j > i)
        if not fixed:
            problems.append(bad)
    return problems


def _cell_problem(part: Part, number: int, code: str | None) -> Problem | None:
    output = part.output or ""
    where = f"code cell {number}" + (f" ({_first_line(code)})" if code else "")
    if part.outcome is Outcome.FAILED:
        return Problem("failed_cell", f"{where} failed: {last_error_line(output) or 'no error output'}", True)
    if part.outcome is Outcome.DEADLINE_EXCEEDED:
        return Problem("cell_deadline_exceeded", f"{where} exceeded the code execution time limit", True)
    if TRACEBACK in output:
        return Problem("traceback", f"{where} printed a traceback: {last_error_line(output)}", True)
    return None


def _code_before(parts: list[Part], index: int) -> str | None:
    for p in reversed(parts[:index]):
        if p.kind is PartKind.CODE:
            return p.code
    return None


def _first_line(code: str) -> str:
    line = next((ln.strip() for ln in code.splitlines() if ln.strip() and not ln.strip().startswith("#")), "")
    return line if len(line) <= 60 else line[:57] + "..."


def last_error_line(output: str) -> str:
    """The exception line of a traceback (e.g. ``ZeroDivisionError: division by zero``)."""
    lines = [ln.strip() for ln in output.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|Warning)\b", line):
            return line[:300]
    return lines[-1][:300] if lines else ""


def follow_up_prompt(problems: Iterable[Problem]) -> str:
    """The bounded follow-up turn: what failed, and what a correct answer must contain."""
    listed = "\n".join(f"- {p.code}: {p.message}" for p in problems)
    return (
        "Your previous answer had these problems:\n"
        f"{listed}\n"
        "Fix them now in one answer: run corrected code with the code execution tool (no tracebacks, "
        "every cell must succeed), keep the output concise, and repeat the complete corrected results "
        "of the previous request (figures included, if figures were asked for)."
    )


def describe(problems: Iterable[Problem]) -> str:
    return "; ".join(f"{p.code}: {p.message}" for p in problems)
