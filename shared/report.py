"""The Markdown report of one run (succeeded or failed) and the ``latest.md`` pointer.

Pure functions over a ResultMessage: no I/O. Every piece of text that came from the file, the object
name or the analyst goes through ``shared.markdown``; the only link and image targets are the chart
paths the caller hands in (and the report path in ``latest.md``).
"""

from __future__ import annotations

import re
from typing import Any

from shared import formatting as fmt
from shared import markdown as md
from shared.cells import Cell, cells_of, read_aggregates
from shared.messages import SEVERITIES, ResultMessage

OUTPUT_LINES = 25  # lines of a cell's output shown in the Analysis section (all of it is in the appendix)
OUTPUT_LINE_CHARS = 160
APPENDIX_OUTPUT_CHARS = 20_000  # per cell; beyond this the appendix points to analysis.json
TOP_VALUES = 5
CORRELATIONS = 5
ERROR_CHARS = 600

_TYPE_ORDER = ("numeric", "datetime", "categorical", "boolean", "text", "identifier")
_OUTCOMES = {"ok": "ok", "failed": "failed", "deadline_exceeded": "timed out"}


def render_report(message: ResultMessage, chart_paths: dict[str, str]) -> str:
    """The report.md of a run. ``chart_paths`` maps an image part's URI to its path relative to the
    report (``charts/01-revenue.png``); images without one are listed, not embedded."""
    if message.status != "succeeded":
        return _failure_report(message)
    cells = cells_of(message.steps)
    sections = [
        md.heading(1, f"Analysis of {_file_name(message)}"),
        _alerts(message),
        _summary(message, cells),
        _insights(message),
        _overview(message),
        _statistics(message),
        _analysis(message, chart_paths, cells),
        _warnings(message, cells),
        _provenance(message),
        _appendix(cells),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def chart_paths(message: ResultMessage) -> dict[str, str]:
    """Image URI → path relative to report.md, for images stored under the run's artifacts prefix.

    ``artifacts_prefix`` may be a ``gs://bucket/...`` URI or a bare object prefix; anything that does
    not resolve to a safe relative path (``charts/NN-<slug>.png``) is left out, so it is listed, not
    embedded.
    """
    prefix = message.artifacts_prefix
    paths: dict[str, str] = {}
    for step in message.steps:
        for part in step.get("parts", []):
            uri = part.get("uri") or ""
            if part.get("kind") != "image" or not uri:
                continue
            name = uri
            if not prefix.startswith("gs://") and uri.startswith("gs://"):
                name = uri.split("/", 3)[3] if uri.count("/") >= 3 else ""
            if prefix and name.startswith(prefix):
                rel = name[len(prefix) :].lstrip("/")
                if md.safe_target(rel) and rel.endswith(".png"):
                    paths[uri] = rel
    return paths


def render_latest(message: ResultMessage, report_rel_path: str) -> str:
    """``reports/<dataset>/latest.md``: a short page pointing at the newest run's report."""
    status = "succeeded" if message.succeeded else "failed"
    lines = [
        md.heading(1, f"Latest report: {_file_name(message)}"),
        f"The newest analysis of {md.escape(message.source.uri)} {status} "
        f"({fmt.timestamp(message.created_at)}, run {md.code_span(message.run_id)}).",
        f"**{md.link('Open the report', report_rel_path)}**",
    ]
    if message.alerts:
        lines.append(f"Alerts: {len(message.alerts)}, most severe {md.escape(message.severity)}.")
    lines.append(
        "Every run keeps its own folder beside this page: `report.md`, `charts/`, `analysis.json` "
        "(the result message) and `analysis.ipynb` (the executed code as a notebook). "
        "This page is replaced whenever a newer run of the same dataset finishes."
    )
    return "\n\n".join(lines) + "\n"


# --- succeeded runs -------------------------------------------------------------------------------


def _file_name(message: ResultMessage) -> str:
    return message.source.name.rsplit("/", 1)[-1] or message.source.name


def _alerts(message: ResultMessage) -> str:
    if not message.alerts:
        return ""
    ordered = sorted(
        message.alerts,
        key=lambda a: SEVERITIES.index(a.get("severity")) if a.get("severity") in SEVERITIES else 0,
        reverse=True,
    )
    lines = [f"> **Alerts ({len(ordered)})**", ">"]
    for alert in ordered:
        repeat = " (repeat)" if alert.get("repeat") else ""
        lines.append(
            f"> - **{md.escape(str(alert.get('severity', 'info')).upper())}** "
            f"{md.code_span(alert.get('rule', ''))}: {md.escape(alert.get('message', ''))}{repeat}"
        )
    return "\n".join(lines)


def _columns(message: ResultMessage) -> list[dict[str, Any]]:
    return list((message.profile or {}).get("columns") or [])


def _summary(message: ResultMessage, cells: list[Cell]) -> str:
    rows = message.dataset.get("rows", (message.profile or {}).get("rows"))
    columns = message.dataset.get("columns")
    n_columns = len(columns) if isinstance(columns, list) else columns
    kinds: dict[str, int] = {}
    for col in _columns(message):
        kinds[col.get("type", "text")] = kinds.get(col.get("type", "text"), 0) + 1
    mix = ", ".join(f"{n} {kind}" for kind in _TYPE_ORDER if (n := kinds.get(kind)))
    first = (
        f"**{md.escape(_file_name(message))}** has **{fmt.integer(rows)} rows** and "
        f"**{fmt.integer(n_columns)} columns**" + (f" ({mix})" if mix else "") + "."
    )
    missing = [c for c in _columns(message) if c.get("missing")]
    quality = []
    if missing:
        total = sum(c["missing"] for c in missing)
        quality.append(f"{fmt.integer(total)} values are missing across {len(missing)} columns")
    dupes = (message.profile or {}).get("duplicate_rows")
    if dupes:
        quality.append(f"{fmt.integer(dupes)} rows are exact duplicates")
    if quality:
        second = "; ".join(quality).capitalize() + "."
    elif message.profile:
        second = "No values are missing and no row is duplicated."
    else:
        second = ""
    failed = sum(c.failed for c in cells)
    charts = sum(1 for s in message.steps for p in s.get("parts", []) if p.get("kind") == "image")
    analysis_s = message.timings.get("analysis_s")
    ran = (
        f"{_analyst_name(message)} ran {len(cells)} code cells"
        + (f" ({failed} failed)" if failed else "")
        + f" and drew {charts} chart{'s' if charts != 1 else ''}"
        + (f" in {fmt.seconds(analysis_s)}" if analysis_s is not None else "")
        + "."
    )
    count = len(message.warnings)
    tail = f" See {count} warning{'s' if count != 1 else ''} below." if count else ""
    return " ".join(x for x in (first, second, ran) if x) + tail


def _analyst_name(message: ResultMessage) -> str:
    analyst = message.analyst or {}
    kind = analyst.get("kind")
    if kind == "gemini":
        model = analyst.get("model")
        return "Gemini" + (f" ({md.code_span(model)})" if model else "")
    if kind == "local":
        return "The local analyst (deterministic pandas code, no language model)"
    return md.escape(kind or "The analyst")


def _insights(message: ResultMessage) -> str:
    body = (
        "\n".join(f"- {md.inline_prose(i)}" for i in message.insights if md.clean_line(i))
        or "_The analyst reported no insights._"
    )
    return f"## Key insights\n\n{body}"


def _overview(message: ResultMessage) -> str:
    columns = _columns(message)
    if not columns:
        types = message.dataset.get("column_types") or {}
        if not types:
            return ""
        rows = [[md.cell(name), md.cell(kind)] for name, kind in types.items()]
        return "## Dataset overview\n\n" + md.table(["Column", "Type"], rows)
    total = (message.profile or {}).get("rows") or 0
    rows = []
    for col in columns:
        missing = col.get("missing") or 0
        rows.append(
            [
                md.cell(col.get("name")),
                md.cell(col.get("type")),
                fmt.integer(col.get("count")),
                f"{fmt.integer(missing)} ({fmt.percent(missing, total)})" if missing else "–",
                fmt.integer(col.get("distinct")),
                md.cell(_column_summary(col)),
            ]
        )
    table = md.table(
        ["Column", "Type", "Values", "Missing", "Distinct", "Summary"], rows, ["l", "l", "r", "r", "r", "l"]
    )
    return f"## Dataset overview\n\n{table}"


def _column_summary(col: dict[str, Any]) -> str:
    kind = col.get("type")
    if kind == "numeric" and col.get("mean") is not None:
        low, high = fmt.number(col.get("min")), fmt.number(col.get("max"))
        return f"mean {fmt.number(col['mean'])}, range {low} to {high}"
    if kind == "datetime" and col.get("start"):
        every = f", {col['granularity']}" if col.get("granularity") else ""
        return f"{fmt.date(col['start'])} to {fmt.date(col.get('end'))}{every}"
    if kind == "identifier":
        return "unique per row" if col.get("distinct") == col.get("count") else "identifier"
    top = col.get("top_values") or []
    if top:
        shown = ", ".join(f"{_value(v)} ({fmt.integer(n)})" for v, n in top[:3])
        return shown + (", …" if len(top) > 3 or (col.get("distinct") or 0) > 3 else "")
    return ""


def _value(v: object) -> str:
    """A data value for inline display: one line, at most 40 characters."""
    text = md.clean_line(v)
    return text if len(text) <= 40 else text[:39] + "…"


def _statistics(message: ResultMessage) -> str:
    columns = _columns(message)
    if not columns:
        return ""
    parts = ["## Statistics"]
    numeric = [c for c in columns if c.get("type") == "numeric"]
    if numeric:
        rows = [
            [md.cell(c["name"])]
            + [fmt.number(c.get(k)) for k in ("mean", "std", "min", "q1", "median", "q3", "max")]
            + [fmt.integer(c.get("outliers"))]
            for c in numeric
        ]
        header = ["Column", "Mean", "Std", "Min", "Q1", "Median", "Q3", "Max", "Outliers"]
        parts.append(
            "### Numeric columns\n\nStandard deviation is the sample one; outliers lie outside "
            "Q1 − 1.5 IQR … Q3 + 1.5 IQR.\n\n" + md.table(header, rows, ["l"] + ["r"] * 8)
        )
    categorical = [
        c for c in columns if c.get("type") in {"categorical", "boolean", "text"} and c.get("top_values")
    ]
    if categorical:
        rows = []
        for c in categorical:
            count = c.get("count") or 0
            top = ", ".join(
                f"{_value(v)}: {fmt.integer(n)} ({fmt.percent(n, count)})"
                for v, n in c["top_values"][:TOP_VALUES]
            )
            more = (c.get("distinct") or 0) - min(len(c["top_values"]), TOP_VALUES)
            if more > 0:
                top += f", and {fmt.integer(more)} more"
            rows.append([md.cell(c["name"]), fmt.integer(c.get("distinct")), md.cell(top)])
        parts.append(
            "### Categorical columns\n\n"
            + md.table(["Column", "Distinct", "Most frequent values"], rows, ["l", "r", "l"])
        )
    dated = [c for c in columns if c.get("type") == "datetime" and c.get("start")]
    if dated:
        rows = [
            [
                md.cell(c["name"]),
                md.cell(fmt.date(c["start"])),
                md.cell(fmt.date(c.get("end"))),
                md.cell(c.get("granularity") or "–"),
            ]
            for c in dated
        ]
        parts.append(
            "### Date and time columns\n\n" + md.table(["Column", "From", "To", "Granularity"], rows)
        )
    correlations = (message.profile or {}).get("correlations") or []
    if correlations:
        rows = [
            [md.cell(f"{c['a']} × {c['b']}"), f"{c['r']:.2f}", _strength(c["r"])]
            for c in correlations[:CORRELATIONS]
        ]
        parts.append(
            "### Strongest correlations\n\nPearson r between numeric columns, strongest first.\n\n"
            + md.table(["Columns", "r", "Strength"], rows, ["l", "r", "l"])
        )
    return "\n\n".join(parts)


def _strength(r: float) -> str:
    size = abs(r)
    label = (
        "strong" if size >= 0.7 else "moderate" if size >= 0.4 else "weak" if size >= 0.2 else "negligible"
    )
    if label == "negligible":
        return label
    return f"{label} {'positive' if r > 0 else 'negative'}"


def _analysis(message: ResultMessage, chart_paths: dict[str, str], cells: list[Cell]) -> str:
    if not message.steps:
        return "## Analysis\n\n_The analyst returned no steps._"
    blocks = ["## Analysis"]
    number = 0
    figure = 0
    for step in message.steps:
        blocks.append(md.heading(3, step.get("title") or step.get("name") or "Step"))
        shown = 0
        current: Cell | None = None  # the cell whose result has not been shown yet
        for part in step.get("parts", []):
            kind = part.get("kind")
            if kind == "text" and md.clean_line(part.get("text") or ""):
                blocks.append(md.prose(part["text"]))
                shown += 1
            elif kind == "code":
                number += 1
                current = cells[number - 1]
            elif kind == "result" and current is not None:
                block = _result_block(current)
                current = None
                if block:
                    blocks.append(block)
                    shown += 1
            elif kind == "image":
                figure += 1
                blocks.append(_figure(figure, part, chart_paths))
                shown += 1
        if not shown:
            blocks.append("_This step produced no text, output or chart._")
    return "\n\n".join(blocks)


def _result_block(cell: Cell) -> str:
    if cell.failed:
        last = next((ln for ln in reversed(cell.output.splitlines()) if ln.strip()), "no output")
        return (
            f"> **Cell {cell.number} {_OUTCOMES.get(cell.outcome or '', 'failed')}:** "
            f"{md.escape(_value_long(last))} (code and full output in the appendix)"
        )
    if not cell.output.strip():
        return ""
    return f"Output of cell {cell.number}:\n\n" + md.code_block(
        _trim_output(cell.output, cell.number), "text"
    )


def _value_long(text: str) -> str:
    return text if len(text) <= 200 else text[:199] + "…"


def _trim_output(output: str, number: int) -> str:
    lines = output.rstrip().splitlines()
    shown = [
        ln if len(ln) <= OUTPUT_LINE_CHARS else ln[: OUTPUT_LINE_CHARS - 1] + "…"
        for ln in lines[:OUTPUT_LINES]
    ]
    if len(lines) > OUTPUT_LINES:
        shown.append(f"… {len(lines) - OUTPUT_LINES} more lines: see cell {number} in the appendix")
    return "\n".join(shown)


def _figure(number: int, part: dict[str, Any], chart_paths: dict[str, str]) -> str:
    title = part.get("title") or f"Chart {number}"
    caption = f"*Figure {number}: {md.escape(title)}*"
    path = chart_paths.get(part.get("uri") or "")
    if path and md.safe_target(path) and path.endswith(".png"):
        return f"{md.image(title, path)}\n\n{caption}"
    return f"{caption} (image not stored with this report)"


def _warnings(message: ResultMessage, cells: list[Cell]) -> str:
    items = [f"- {md.escape(w)}" for w in message.warnings if md.clean_line(w)]
    failed = [c for c in cells if c.failed]
    if failed:
        numbers = ", ".join(str(c.number) for c in failed)
        many = len(failed) > 1
        items.append(
            f"- {len(failed)} of {len(cells)} code cells did not finish "
            f"(cell{'s' if many else ''} {numbers}); "
            f"{'their' if many else 'its'} code and output are in the appendix."
        )
    body = "\n".join(items) if items else "None."
    return f"## Warnings\n\n{body}"


def _provenance(message: ResultMessage) -> str:
    src = message.source
    rows = [
        ["Source", md.cell(src.uri)],
        ["Size", fmt.size(src.size)],
        ["Content type", md.cell(src.content_type or "–")],
        ["SHA-256", md.code_span(src.sha256, in_table=True) if src.sha256 else "–"],
        ["Generation", md.code_span(src.generation, in_table=True) if src.generation else "–"],
        ["Analyst", _analyst_cell(message)],
        ["Run id", md.code_span(message.run_id, in_table=True)],
        ["Created", fmt.timestamp(message.created_at)],
        ["Artifacts", md.cell(message.artifacts_prefix)],
        ["Timings", _timings(message.timings)],
    ]
    if src.md5_hash:
        rows.insert(4, ["MD5 (base64)", md.code_span(src.md5_hash, in_table=True)])
    parts = ["## Provenance", md.table(["Field", "Value"], rows)]
    usage = (message.analyst or {}).get("usage")
    if usage:
        parts.append(_usage(message, usage))
    return "\n\n".join(parts)


def _analyst_cell(message: ResultMessage) -> str:
    analyst = message.analyst or {}
    kind = analyst.get("kind") or "none"
    model = analyst.get("model")
    if kind == "local":
        return "local (deterministic pandas code, no language model)"
    return md.cell(kind) + (f", model {md.code_span(model, in_table=True)}" if model else "")


def _timings(timings: dict[str, float]) -> str:
    if not timings:
        return "–"
    names = {"read_s": "read", "profile_s": "profile", "analysis_s": "analysis", "total_s": "total"}
    known = [k for k in names if k in timings and k != "total_s"]
    order = (
        known + sorted(k for k in timings if k not in names) + (["total_s"] if "total_s" in timings else [])
    )
    return ", ".join(
        f"{md.escape(names.get(k, k.removesuffix('_s')))} {fmt.seconds(timings[k])}" for k in order
    )


def _usage(message: ResultMessage, usage: dict[str, Any]) -> str:
    gemini = (message.analyst or {}).get("kind") == "gemini"
    rows = []
    if gemini:
        rows += [
            ["Prompt tokens", fmt.integer(usage.get("prompt_tokens"))],
            ["Output tokens", fmt.integer(usage.get("output_tokens"))],
            ["Tool-use prompt tokens", fmt.integer(usage.get("tool_use_prompt_tokens"))],
            ["Thoughts tokens", fmt.integer(usage.get("thoughts_tokens"))],
            ["Total tokens", fmt.integer(usage.get("total_tokens"))],
            ["Turns", fmt.integer(usage.get("turns"))],
        ]
    rows += [
        ["Code cells", fmt.integer(usage.get("code_cells"))],
        ["Failed cells", fmt.integer(usage.get("failed_cells"))],
        ["Analyst latency", fmt.seconds(usage.get("latency_s"))],
    ]
    per_turn = usage.get("turn_latencies_s") or []
    if gemini and per_turn:
        rows.append(["Latency per turn", ", ".join(fmt.seconds(s) for s in per_turn)])
    title = "### Gemini usage" if gemini else "### Analyst usage"
    return f"{title}\n\n" + md.table(["Metric", "Value"], rows, ["l", "r"])


def _appendix(cells: list[Cell]) -> str:
    if not cells:
        return "## Appendix: executed code\n\n_No code was executed._"
    reads = (
        "The cells read `aggregates.json`, the aggregates of every row that DuckDB computed for this large "
        "file; it is not kept beside this report, so `analysis.ipynb` holds the same cells and their outputs "
        "but cannot re-run them as they are."
        if read_aggregates(cells)
        else "The cells read `data.csv`, the table as the pipeline read it; `analysis.ipynb` beside this "
        "report holds the same cells, ready to re-run against the original file."
    )
    blocks = [
        "## Appendix: executed code",
        "Every code cell the analyst ran, in order, with its outcome and output. " + reads,
    ]
    for cell in cells:
        outcome = _OUTCOMES.get(cell.outcome or "", cell.outcome) if cell.outcome else "no result recorded"
        blocks.append(md.heading(3, f"Cell {cell.number}: {cell.step} ({outcome})"))
        blocks.append(md.code_block(cell.code, "python"))
        if cell.output:
            output = cell.output
            if len(output) > APPENDIX_OUTPUT_CHARS:
                cut = len(output) - APPENDIX_OUTPUT_CHARS
                output = output[:APPENDIX_OUTPUT_CHARS] + f"\n… {cut:,} more characters in analysis.json"
            blocks.append("Output:\n\n" + md.code_block(output, "text"))
        if cell.images:
            titles = ", ".join(md.escape(p.get("title") or "untitled") for p in cell.images)
            blocks.append(f"Charts drawn: {titles}.")
    return "\n\n".join(blocks)


# --- failed runs ----------------------------------------------------------------------------------

_NEXT_STEPS = {
    "invalid_csv": "Check that the file opens as a table: one header row, the same number of fields on "
    "every line, a text encoding such as UTF-8. Fix it and upload it again (a new upload is a new run).",
    "unsupported_file": "Only files whose names end in one of the suffixes of the `DATA_SUFFIXES` setting "
    "(by default .csv, .tsv, .txt, .csv.gz, .tsv.gz) are analysed. Convert or rename the file and upload it "
    "again.",
    "analysis_failed": "The analyst could not produce a complete analysis. Upload the file again to retry; "
    "if "
    "it keeps failing, set `ANALYST=local` to use the deterministic local analyst.",
    "configuration_error": "A setting or the alert rules file is invalid. Fix the setting named above and "
    "redeploy; the file itself may be fine.",
    "not_found": "The object was deleted or replaced before it could be read. Upload it again.",
}

# Which setting a limit error is about, from the words of its message (most specific first).
_LIMIT_SETTINGS = (
    ("decompress", "MAX_DECOMPRESSED_BYTES"),
    ("column", "MAX_COLUMNS"),
    ("cell", "MAX_CELL_CHARS"),
    ("character", "MAX_CELL_CHARS"),
    ("deadline", "ANALYSIS_DEADLINE_S"),
    ("byte", "MAX_FILE_BYTES"),
    ("size", "MAX_FILE_BYTES"),
    ("large", "MAX_FILE_BYTES"),
)


def next_step(code: str, message: str, permanent: bool) -> str:
    """What the person who dropped the file should do about a failure (one or two sentences)."""
    if not permanent:
        return (
            "This was a temporary problem (a service was unavailable or slow). The pipeline retries on its "
            "own; if this report is still the newest in a while, upload the file again."
        )
    if code == "limit_exceeded":
        lowered = message.lower()
        setting = next((name for word, name in _LIMIT_SETTINGS if word in lowered), None)
        if setting:
            return (
                f"Make the file smaller (split it, drop columns) or raise the `{setting}` setting of the "
                "analyze function, then upload the file again."
            )
        return (
            "Make the file smaller or raise the matching limit (`MAX_FILE_BYTES`, `MAX_DECOMPRESSED_BYTES`, "
            "`MAX_COLUMNS` or `MAX_CELL_CHARS`), then upload the file again."
        )
    return _NEXT_STEPS.get(
        code, "Correct the file and upload it again; the same file will fail the same way."
    )


def _error_text(text: str) -> str:
    """The error message for people: no traceback, one paragraph, bounded length."""
    cut = re.split(r"Traceback \(most recent call last\)|\n\s*File \"", text, maxsplit=1)[0]
    line = md.clean_line(cut) or "No details were recorded."
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


def _failure_report(message: ResultMessage) -> str:
    err = message.error
    code = err.code if err else "unknown"
    text = err.message if err else "The run failed without an error message."
    permanent = err.permanent if err else True
    kind = (
        "permanent: the same file will fail the same way, so it is not retried"
        if permanent
        else "temporary: the pipeline retries it"
    )
    sections = [
        md.heading(1, f"Analysis of {_file_name(message)} failed"),
        _alerts(message),
        f"The file {md.escape(message.source.uri)} ({fmt.size(message.source.size, exact=False)}) "
        "could not be analysed.",
        "## What went wrong\n\n"
        + f"{md.escape(_error_text(text))}\n\n"
        + md.table(
            ["Field", "Value"], [["Error code", md.code_span(code, in_table=True)], ["Kind", md.cell(kind)]]
        ),
        "## What to do next\n\n" + next_step(code, text, permanent),
        _warnings_if_any(message),
        _provenance(message),
    ]
    return "\n\n".join(s for s in sections if s) + "\n"


def _warnings_if_any(message: ResultMessage) -> str:
    if not message.warnings:
        return ""
    return "## Warnings\n\n" + "\n".join(f"- {md.escape(w)}" for w in message.warnings if md.clean_line(w))
