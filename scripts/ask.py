"""Run one free-form prompt with Gemini's code execution and print every part.

    python -m scripts.ask "Calculate the first 20 primes and their sum" [--expect text|image] [--out DIR]

Prints the text, each executed code cell, its outcome and output; saves images as PNG files in DIR.
Exit status: 0 when the answer passed validation, 1 when it did not (the problems are printed),
2 on a configuration, permanent or transient error. Gemini is configured by the SDK's own variables
(GEMINI_API_KEY, or GOOGLE_GENAI_USE_VERTEXAI with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from shared.analysts.base import PartKind
from shared.ask import EXPECTS, AskResult, run_prompt
from shared.errors import PipelineError
from shared.naming import chart_name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prompt")
    parser.add_argument("--expect", choices=EXPECTS, default="text")
    parser.add_argument("--out", default="out", help="folder for images (default: out)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        result = run_prompt(args.prompt, args.expect)
    except PipelineError as err:
        kind = "permanent" if err.permanent else "transient"
        print(f"error ({kind}, {err.code}): {err.message}", file=sys.stderr)
        return 2
    print_result(result, Path(args.out))
    return 0 if result.ok else 1


def print_result(result: AskResult, out: Path) -> None:
    cell = 0
    saved = 0
    for part in result.parts:
        if part.kind is PartKind.TEXT:
            print(f"--- text\n{(part.text or '').strip()}\n")
        elif part.kind is PartKind.CODE:
            cell += 1
            print(f"--- code (cell {cell})\n{(part.code or '').rstrip()}\n")
        elif part.kind is PartKind.RESULT:
            print(f"--- output (cell {cell}, {part.outcome})\n{(part.output or '').rstrip()}\n")
        else:
            saved += 1
            path = out / "ask" / Path(chart_name(saved, part.title)).name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(part.image or b"")
            print(f"--- image: {path} ({len(part.image or b'')} bytes, title {part.title!r})\n")
    u = result.usage
    print(
        f"--- model {result.model}: {u.turns} turn(s), {u.code_cells} code cell(s), {u.failed_cells} failed, "
        f"tokens prompt {u.prompt_tokens} / output {u.output_tokens} / tool-use {u.tool_use_prompt_tokens} / "
        f"thoughts {u.thoughts_tokens}, {u.latency_s:.2f} s"
    )
    if result.follow_up:
        print("--- a follow-up turn was needed")
    for problem in result.problems:
        print(f"validation failed ({problem.code}): {problem.message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
