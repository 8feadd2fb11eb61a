"""analysis.ipynb: the executed cells of a run as a Jupyter notebook (nbformat 4.5) a reader can re-run.

Built as plain JSON by our own code (nbformat is a test-only dependency that validates the result).
The first code cell rebuilds ``df`` from the original file, the way the pipeline read it, and writes
``data.csv``, the file every analysis cell reads; the analyst's cells follow in run order with their
recorded outputs (stdout, errors, charts). Markdown cells carry only escaped text (``shared.markdown``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from shared import formatting as fmt
from shared import markdown as md
from shared.cells import cells_of, read_aggregates
from shared.messages import ResultMessage

NBFORMAT = 4
NBFORMAT_MINOR = 5
_ERROR_LINE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)|KeyError|StopIteration):\s?(.*)$"
)


def render_notebook(message: ResultMessage, images: dict[str, bytes], data_path: str) -> bytes:
    """The notebook as UTF-8 JSON bytes.

    ``images`` maps an image part's URI to its PNG bytes (missing ones are left out); ``data_path`` is
    the path the reader's copy of the original file is expected at (the value of ``DATA``), and the
    path literal the message's ``loader_code`` was generated with.
    """
    builder = _Builder()
    builder.markdown(_intro(message, data_path))
    builder.code(_loader(message, data_path), execution_count=None, cell_id="load-data")
    number = 0
    for s_index, step in enumerate(message.steps, 1):
        texts = [md.heading(2, step.get("title") or step.get("name") or f"Step {s_index}")]
        current: dict[str, Any] | None = None
        for part in step.get("parts", []):
            kind = part.get("kind")
            if kind == "text":
                if part.get("text") and md.clean_line(part["text"]):
                    texts.append(md.prose(part["text"]))
                continue
            if texts:
                builder.markdown("\n\n".join(texts))
                texts = []
            if kind == "code":
                number += 1
                current = builder.code(
                    part.get("code") or "", execution_count=number, cell_id=f"cell-{number}"
                )
            elif kind == "result" and current is not None and not current["outputs"]:
                _add_result(current, part)
            elif kind == "image" and current is not None:
                png = images.get(part.get("uri") or "")
                if png:
                    current["outputs"].append(_image_output(png, part.get("title")))
        if texts:
            builder.markdown("\n\n".join(texts))
    if not message.steps:
        reason = "the run failed before any code ran" if not message.succeeded else "the analyst ran no code"
        builder.markdown(f"_No analysis cells: {reason}._")
    notebook = {
        "cells": builder.cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11"},
            "csv_insights": {
                "run_id": message.run_id,
                "source": message.source.uri,
                "generation": message.source.generation,
                "analyst": (message.analyst or {}).get("kind"),
                "model": (message.analyst or {}).get("model"),
            },
        },
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }
    return (json.dumps(notebook, ensure_ascii=False, indent=1) + "\n").encode()


class _Builder:
    def __init__(self) -> None:
        self.cells: list[dict[str, Any]] = []
        self._markdown = 0

    def markdown(self, text: str) -> None:
        self._markdown += 1
        self.cells.append(
            {"cell_type": "markdown", "id": f"md-{self._markdown}", "metadata": {}, "source": _lines(text)}
        )

    def code(self, source: str, *, execution_count: int | None, cell_id: str) -> dict[str, Any]:
        cell = {
            "cell_type": "code",
            "id": cell_id,
            "metadata": {},
            "execution_count": execution_count,
            "source": _lines(source),
            "outputs": [],
        }
        self.cells.append(cell)
        return cell


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _intro(message: ResultMessage, data_path: str) -> str:
    src = message.source
    analyst = message.analyst or {}
    who = {"gemini": "Gemini", "local": "the local analyst (deterministic pandas code)"}.get(
        analyst.get("kind") or "", md.escape(analyst.get("kind") or "the analyst")
    )
    if analyst.get("model"):
        who += f" ({md.code_span(analyst['model'])})"
    name = src.name.rsplit("/", 1)[-1] or src.name
    return "\n\n".join(
        [
            md.heading(1, f"Analysis of {name}"),
            f"Source: {md.escape(src.uri)}, generation {md.code_span(src.generation)}, "
            f"{fmt.size(src.size)}" + (f", SHA-256 {md.code_span(src.sha256)}" if src.sha256 else "") + ".",
            f"Run {md.code_span(message.run_id)}, {fmt.timestamp(message.created_at)}, analysed by {who}; "
            f"status: {md.escape(message.status)}.",
            _how_to_rerun(message, data_path, who),
        ]
    )


def _how_to_rerun(message: ResultMessage, data_path: str, who: str) -> str:
    if read_aggregates(cells_of(message.steps)):
        # a large file: the cells read the aggregates of every row, which the report folder does not keep
        return (
            "**Re-running.** The file was too large to load, so the analysis cells read `aggregates.json`, "
            "the aggregates of every row that DuckDB computed during the run; that file is not kept with the "
            "report, so these cells show what ran and what it printed but do not re-run as they are. The next "
            "cell rebuilds `df` from a copy of the original file (every row, in memory) and writes `data.csv`. "
            f"The code was written by {who}: read it before you run it."
        )
    return (
        "**How to re-run.** Put a copy of the original file next to this notebook as "
        f"{md.code_span(data_path)}, or set `DATA` in the next cell to its path, then run all cells. "
        "The next cell rebuilds `df` the way the pipeline read the file and writes `data.csv`, the "
        "file every analysis cell reads. Cells tagged `raises-exception` failed in the original run "
        f"too. The code was written by {who}: read it before you run it."
    )


def _loader(message: ResultMessage, data_path: str) -> str:
    loader = (message.dataset or {}).get("loader_code")
    lines = ["# Path of the original file; change it to where your copy is.", f"DATA = {data_path!r}", ""]
    if not loader or "import pandas as pd" not in loader:
        lines += ["import pandas as pd", ""]
    if loader:
        # The loader was generated with the path as a literal: point it at DATA so one edit suffices.
        for literal in {repr(data_path), json.dumps(data_path)}:
            loader = loader.replace(literal, "DATA")
        lines.append(loader.rstrip())
    else:
        lines.append("df = pd.read_csv(DATA)  # the table as the pipeline wrote it (clean CSV)")
    lines += [
        "",
        "# The analysis cells below read the table from data.csv.",
        'df.to_csv("data.csv", index=False)',
    ]
    return "\n".join(lines)


def _add_result(cell: dict[str, Any], part: dict[str, Any]) -> None:
    outcome = part.get("outcome") or "ok"
    output = part.get("output") or ""
    if outcome == "ok":
        if output:
            cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": _lines(output)})
        return
    cell["metadata"]["tags"] = ["raises-exception"]
    if outcome == "deadline_exceeded":
        ename, evalue = "DeadlineExceeded", "the cell ran longer than its time limit"
    else:
        last = next((ln for ln in reversed(output.splitlines()) if ln.strip()), "")
        match = _ERROR_LINE.match(last.strip())
        ename, evalue = (match.group(1), match.group(2)) if match else ("Error", last.strip())
    cell["outputs"].append(
        {
            "output_type": "error",
            "ename": ename,
            "evalue": evalue,
            "traceback": output.splitlines() or [ename],
        }
    )


def _image_output(png: bytes, title: str | None) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": [md.clean_line(title or "chart")],
        },
        "metadata": {},
    }
