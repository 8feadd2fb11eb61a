"""The local analyst (the embedded default, no language model).

It writes pandas/matplotlib code for the dataset's shape (``local_code``, ``local_charts``), runs it in
the sandbox (``shared.sandbox``), and writes insight sentences from the numbers the code printed
(``local_insights``). Steps: statistics, charts, insights (and questions, to say it cannot answer them).

A large file comes with aggregates of every row (``request.aggregates``): the code then reads those
(``aggregates.json``) instead of the sample in ``data.csv``, so every number and chart covers every row.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shared.analysts.base import Analysis, AnalysisRequest, Outcome, Part, Step, Usage
from shared.analysis_plan import make_plan
from shared.analysts.local_code import Cell, build_cells
from shared.analysts.local_insights import write_insights
from shared.sandbox import CellResult, SandboxLimits, run_cells

if TYPE_CHECKING:
    from shared.settings import Settings

log = logging.getLogger(__name__)

QUESTIONS_ANSWER = (
    "The local analyst does not answer free-form questions: it runs a fixed set of analyses chosen from the "
    "columns. To have these questions answered, use the Gemini analyst: set ANALYST=gemini (or leave it at "
    "auto) and configure Gemini, either GEMINI_API_KEY for the Gemini API or GOOGLE_GENAI_USE_VERTEXAI=true "
    "with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION for Vertex AI."
)


class LocalAnalyst:
    """Deterministic analyst: generated code, executed in the sandbox, sentences from its output."""

    kind = "local"
    model = None

    def __init__(self, settings: Settings, limits: SandboxLimits | None = None) -> None:
        self.settings = settings
        self.limits = limits or SandboxLimits.from_settings(settings)

    def analyze(self, request: AnalysisRequest) -> Analysis:
        """Generate, run and describe the analysis of ``request.data_csv``."""
        began = time.monotonic()
        frame = getattr(request.table, "frame", None) if request.table is not None else None
        aggregates = request.aggregates
        # the aggregates were computed for a plan: the code must ask for exactly those
        plan = aggregates.plan if aggregates is not None else make_plan(request.profile, frame)
        # A per-run marker: a data value cannot forge a machine line it cannot guess.
        mark = "@@result-" + secrets.token_hex(4)
        cells = build_cells(plan, mark, aggregated=aggregates is not None)
        files = {"data.csv": request.data_csv, **(aggregates.files() if aggregates is not None else {})}
        results = self._run(cells, files, replace(self.limits, keep_prefix=mark + " "))

        parsed: dict[str, Any] = {}
        warnings: list[str] = []
        for cell, result in zip(cells, results):
            parsed.update(_parse_marks(result.output, mark))
            if result.outcome is not Outcome.OK:
                warnings.append(
                    f"The local analyst's cell '{cell.name}' failed: {result.error or 'no reason given'}."
                )
        insights = write_insights(parsed)

        steps = self._steps(request, cells, results, mark, insights)
        failed = sum(1 for r in results if r.outcome is not Outcome.OK)
        usage = Usage(
            turns=0, code_cells=len(cells), failed_cells=failed, latency_s=round(time.monotonic() - began, 3)
        )
        # Useful = the data loaded and the summary ran; everything else is a bonus.
        succeeded = len(results) >= 2 and all(r.outcome is Outcome.OK for r in results[:2])
        log.info(
            "local analysis finished",
            extra={
                "cells": len(cells),
                "failed_cells": failed,
                "isolation": results[0].isolation if results else (),
            },
        )
        return Analysis(
            analyst=self.kind,
            model=None,
            steps=steps,
            insights=insights,
            usage=usage,
            succeeded=succeeded,
            warnings=warnings,
        )

    def _run(self, cells: list[Cell], files: dict[str, bytes], limits: SandboxLimits) -> list[CellResult]:
        """Run every cell; if the sandbox stopped (a timeout kills it), run the rest once more, load first."""
        results = run_cells([c.code for c in cells], files, limits)
        stopped = next((i for i, r in enumerate(results) if not r.ran), None)
        if stopped is not None and stopped > 1:
            again = run_cells([cells[0].code] + [c.code for c in cells[stopped:]], files, limits)
            if again and again[0].outcome is Outcome.OK:
                results[stopped:] = again[1:]
        return results

    def _steps(
        self,
        request: AnalysisRequest,
        cells: list[Cell],
        results: list[CellResult],
        mark: str,
        insights: list[str],
    ) -> list[Step]:
        statistics = Step("statistics", "Statistics")
        charts = Step("charts", "Charts")
        coverage = _coverage(request)
        if coverage:
            statistics.parts.append(Part.of_text(coverage))
        for cell, result in zip(cells, results):
            step = statistics if cell.step == "statistics" else charts
            step.parts.append(Part.of_text(cell.text))
            step.parts.append(Part.of_code(cell.code))
            output = _strip_marks(result.output, mark)
            if result.error and result.error not in output:
                output = (output + "\n" if output else "") + f"[{result.error}]"
            step.parts.append(Part.of_result(result.outcome, output))
            for png, title in result.images:
                step.parts.append(Part.of_image(png, title))
        if not charts.parts:
            charts.parts.append(Part.of_text("No chart applies to these columns."))

        lines = "\n".join(f"- {s}" for s in insights) if insights else "- No insight could be computed."
        every_row = f", every one computed over all {request.profile.rows:,} rows" if request.aggregates else ""
        insight_step = Step(
            "insights",
            "Insights",
            [
                Part.of_text(
                    f"Written from the numbers the cells above printed (no language model){every_row}:\n\n" + lines
                )
            ],
        )
        steps = [statistics, charts, insight_step]
        if request.questions:
            steps.append(Step("questions", "Your questions", [Part.of_text(QUESTIONS_ANSWER)]))
        return steps


def _coverage(request: AnalysisRequest) -> str | None:
    """What the numbers of a large file cover: every row (aggregates) or a sample; None for a file read whole."""
    if not request.sampled:
        return None
    rows = request.profile.rows
    sample = len(request.table.frame) if request.table is not None else None
    sample_text = f"the {sample:,}-row sample" if sample is not None else "the sample"
    if request.aggregates is None:
        return (
            f"The table has {rows:,} rows; these numbers come from a representative sample of them "
            "(data.csv holds the sample), so totals are the sample's totals."
        )
    return (
        f"The file is large ({rows:,} rows), so it was not loaded: DuckDB computed the aggregates over all "
        f"{rows:,} rows (sums, means and counts per column, per category and per period; histogram bins; "
        "box-plot statistics; correlations; the highest, lowest and most outlying rows by name) and the cells "
        "below read them from aggregates.json, so every number and chart covers every row. None of the numbers "
        f"comes from {sample_text} in data.csv. Box plots draw only the most extreme outliers."
    )


def _parse_marks(output: str, mark: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in output.splitlines():
        if line.startswith(mark + " "):
            try:
                item = json.loads(line[len(mark) + 1 :], parse_constant=lambda _: None)
            except ValueError:
                continue
            if isinstance(item, dict) and "key" in item:
                found[str(item["key"])] = _finite(item.get("value"))
    return found


def _finite(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _strip_marks(output: str, mark: str) -> str:
    """The cell's output for people: the machine lines are the analyst's, not the reader's."""
    return "".join(
        line for line in output.splitlines(keepends=True) if not line.startswith(mark + " ")
    ).rstrip()
