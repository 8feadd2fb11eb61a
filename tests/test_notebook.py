"""analysis.ipynb (shared/notebook.py): valid nbformat 4.5, faithful outputs, and re-runnable for real."""

from __future__ import annotations

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import nbformat
import pytest

from shared.messages import ResultMessage
from shared.notebook import render_notebook
from tests.rendered import ALLOWED_TAGS, outside_code, render
from tests.test_report import hostile_message

DATA = Path(__file__).parent / "data" / "messages"
FIXTURES = ["sales_succeeded", "gemini_succeeded", "failed_limit", "failed_invalid_csv", "failed_transient"]


def load(name: str) -> ResultMessage:
    return ResultMessage.from_json((DATA / f"{name}.json").read_text())


def png(width: int = 2, height: int = 1) -> bytes:
    """A real (tiny, grey) PNG, so image outputs carry bytes an image viewer accepts."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def images_of(message: ResultMessage) -> dict[str, bytes]:
    return {
        p["uri"]: png(i + 1)
        for i, p in enumerate(p for s in message.steps for p in s["parts"] if p["kind"] == "image")
    }


def notebook(message: ResultMessage, images: dict[str, bytes] | None = None, data_path: str = "sales.csv"):
    raw = render_notebook(message, images_of(message) if images is None else images, data_path)
    return raw, nbformat.reads(raw.decode("utf-8"), as_version=4)


@pytest.mark.parametrize("fixture", FIXTURES)
def test_notebook_validates_as_nbformat_4_5(fixture):
    raw, nb = notebook(load(fixture))
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids)) and all(ids)
    assert raw == render_notebook(load(fixture), images_of(load(fixture)), "sales.csv")  # deterministic


def test_code_cells_follow_the_run_with_its_outputs():
    message = load("gemini_succeeded")
    images = images_of(message)
    _, nb = notebook(message, images)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].id == "load-data" and code[0].execution_count is None
    recorded = [p for s in message.steps for p in s["parts"] if p["kind"] in {"code", "result"}]
    ran = code[1:]
    assert [c.source for c in ran] == [p["code"] for p in recorded if p["kind"] == "code"]
    assert [c.execution_count for c in ran] == [1, 2, 3, 4]
    assert ran[0].outputs[0].output_type == "stream"
    assert ran[0].outputs[0].text == recorded[1]["output"]
    failed = ran[1]
    assert failed.metadata["tags"] == ["raises-exception"]
    assert [(o.output_type, o.ename, o.evalue) for o in failed.outputs] == [("error", "KeyError", "'revenu'")]
    chart = ran[3]
    assert [o.output_type for o in chart.outputs] == ["stream", "display_data"]
    uri = next(iter(images))
    assert base64.b64decode(chart.outputs[1].data["image/png"]) == images[uri]


def test_images_without_bytes_are_left_out():
    _, nb = notebook(load("gemini_succeeded"), images={})
    assert not any(
        o.output_type == "display_data" for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )


def test_steps_become_markdown_cells_with_their_text_in_order():
    _, nb = notebook(load("gemini_succeeded"))
    kinds = [(c.cell_type, c.source.split("\n")[0]) for c in nb.cells]
    assert kinds[0] == ("markdown", "# Analysis of sales.csv")
    assert ("markdown", "## Statistics and outliers") in kinds
    assert ("markdown", "The column is called `revenue`, not `revenu`; retrying.") in kinds
    assert ("markdown", "## Charts") in kinds


def test_loader_reads_the_file_named_by_DATA_and_writes_data_csv():
    _, nb = notebook(load("sales_succeeded"))
    loader = nb.cells[1].source
    assert loader.splitlines()[1] == "DATA = 'sales.csv'"
    assert 'pd.read_csv(DATA, parse_dates=["date"])' in loader
    assert loader.rstrip().endswith('df.to_csv("data.csv", index=False)')


def test_without_loader_code_the_clean_csv_is_read():
    data = load("sales_succeeded").to_dict()
    del data["dataset"]["loader_code"]
    _, nb = notebook(ResultMessage.from_dict(data), data_path="clean.csv")
    assert "df = pd.read_csv(DATA)" in nb.cells[1].source


def test_failed_run_notebook_says_why_it_has_no_cells():
    _, nb = notebook(load("failed_limit"))
    assert nb.cells[-1].source == "_No analysis cells: the run failed before any code ran._"


def test_markdown_cells_cannot_inject_html_or_links():
    message, _ = hostile_message()
    _, nb = notebook(message, data_path="x'); import os; os.system('echo pwned') #.csv")
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert "<" not in outside_code(cell.source), cell.source
            html = render(cell.source)
            assert {t for t, _ in html.tags} <= ALLOWED_TAGS - {"img", "a"}
            assert [t for t, _ in html.headings if t == "h1"] in ([], ["h1"])
    # The path is a Python string literal, never code.
    compile(nb.cells[1].source, "loader", "exec")
    assert nb.cells[1].source.splitlines()[1] == "DATA = \"x'); import os; os.system('echo pwned') #.csv\""


RUNNER = textwrap.dedent(
    """
    import contextlib, io, json, sys
    nb = json.load(open(sys.argv[1]))
    namespace, results = {}, []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        buf, error = io.StringIO(), None
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile("".join(cell["source"]), cell["id"], "exec"), namespace)
            except Exception as err:
                error = type(err).__name__
        results.append({"id": cell["id"], "stdout": buf.getvalue(), "error": error})
    json.dump(results, sys.stdout)
    """
)


@pytest.mark.parametrize("fixture", ["sales_succeeded", "gemini_succeeded"])
def test_notebook_re_runs_against_the_original_csv_and_reproduces_every_output(fixture, tmp_path):
    message = load(fixture)
    raw, nb = notebook(message)
    (tmp_path / "analysis.ipynb").write_bytes(raw)
    shutil.copy(DATA / "sales.csv", tmp_path / "sales.csv")  # the reader's copy of the original file
    (tmp_path / "run.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE", "GEMINI"))}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run(
        [sys.executable, "run.py", "analysis.ipynb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [r["id"] for r in results] == [c.id for c in code]
    assert (tmp_path / "data.csv").exists()
    for cell, result in zip(code, results, strict=True):
        if "raises-exception" in cell.metadata.get("tags", []):
            assert result["error"] == cell.outputs[0].ename, cell.id
            continue
        assert result["error"] is None, (cell.id, result)
        recorded = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert result["stdout"] == recorded, cell.id
