"""Named problems of one analyst turn, and the sampling of large files (pure, no server)."""

from __future__ import annotations

import pytest

from shared.analysts.base import Outcome, Part, Step
from shared.analysts.gemini import convert_parts, extract_insights, titles_in_code
from shared.analysts.sampling import representative_sample
from shared.analysts.validation import check_turn, follow_up_prompt, last_error_line

TB = 'Traceback (most recent call last):\n  File "<string>", line 1\nZeroDivisionError: division by zero\n'


def codes(parts, **kw):
    kw.setdefault("finish_reason", "STOP")
    return [(p.code, p.fixable) for p in check_turn(parts, **kw)]


def test_clean_turn_has_no_problem():
    parts = [Part.of_text("ok"), Part.of_code("print(1)"), Part.of_result(Outcome.OK, "1")]
    assert codes(parts) == []


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([Part.of_code("1/0"), Part.of_result(Outcome.FAILED, TB)], [("failed_cell", True)]),
        (
            [
                Part.of_code("1/0"),
                Part.of_result(Outcome.FAILED, TB),
                Part.of_code("1"),
                Part.of_result(Outcome.OK, "1"),
            ],
            [],
        ),
        (
            [Part.of_code("x"), Part.of_result(Outcome.DEADLINE_EXCEEDED, ""), Part.of_text("t")],
            [("cell_deadline_exceeded", True)],
        ),
        ([Part.of_code("x"), Part.of_result(Outcome.OK, TB)], [("traceback", True)]),
        (
            [
                Part.of_code("x"),
                Part.of_result(Outcome.OK, "1"),
                Part.of_code("y"),
                Part.of_result(Outcome.FAILED, TB),
            ],
            [("failed_cell", True)],
        ),
    ],
)
def test_cell_problems_unless_a_later_clean_cell_fixed_them(parts, expected):
    assert codes(parts) == expected


def test_missing_chart_only_when_charts_were_asked_for():
    parts = [Part.of_text("chart drawn")]
    assert codes(parts, expect_image=True) == [("missing_chart", True)]
    assert codes(parts) == []
    assert codes([*parts, Part.of_image(b"\x89PNG")], expect_image=True) == []


@pytest.mark.parametrize(
    ("parts", "kw", "expected"),
    [
        ([], {"block_reason": "SAFETY"}, [("blocked_prompt", False)]),
        ([Part.of_text("x")], {"finish_reason": "SAFETY"}, [("blocked_response", False)]),
        ([], {"finish_reason": "MAX_TOKENS"}, [("max_tokens_empty", False)]),
        ([Part.of_text("x")], {"finish_reason": "MAX_TOKENS"}, [("max_tokens", True)]),
        ([], {"finish_reason": "STOP"}, [("empty_response", False)]),
        ([Part.of_code("x")], {"finish_reason": "STOP"}, [("missing_text", True)]),
    ],
)
def test_blocked_empty_and_truncated_answers_are_named(parts, kw, expected):
    assert codes(parts, **kw) == expected


def test_follow_up_names_each_problem_and_its_error_line():
    problems = check_turn(
        [Part.of_code("1/0"), Part.of_result(Outcome.FAILED, TB)], finish_reason="STOP", expect_image=True
    )
    prompt = follow_up_prompt(problems)
    assert "- failed_cell: code cell 1 (1/0) failed: ZeroDivisionError: division by zero" in prompt
    assert "- missing_chart:" in prompt


def test_last_error_line_finds_the_exception_not_the_trailing_noise():
    assert last_error_line(TB + "\n") == "ZeroDivisionError: division by zero"
    assert last_error_line("pandas.errors.ParserError: bad\n") == "pandas.errors.ParserError: bad"


def test_titles_come_from_matplotlib_calls_in_order():
    src = 'plt.title(\'Histogram of price\')\nax.set_title(f"Sales by {col}")\nfig.suptitle("Box plot")'
    assert titles_in_code(src) == ["Histogram of price", "Sales by", "Box plot"]


def test_images_without_a_title_in_code_take_the_preceding_text():
    from google.genai import types

    parts = [
        types.Part(text="## Revenue trend\nBelow."),
        types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\x89PNG")),
    ]
    ours = convert_parts(parts)
    assert ours[1].title == "Revenue trend" and ours[1].image == b"\x89PNG"


def test_insights_are_the_numbered_items():
    step = Step(
        "insights",
        "Insights",
        [Part.of_text("Here:\n1. **Revenue** totals 5.\n2. Units\n   continue here.\n3) Third.\n\nDone.")],
    )
    assert extract_insights(step) == ["Revenue totals 5.", "Units continue here.", "Third."]


def _csv(rows: int) -> bytes:
    return ("id,city,value\n" + "".join(f'{i},"Town, {i % 7}",{i * 1.5}\n' for i in range(rows))).encode()


def test_sample_fits_the_budget_keeps_head_and_file_order_and_is_deterministic():
    data = _csv(5000)
    a = representative_sample(data, 6000)
    b = representative_sample(data, 6000)
    assert a == b and len(a.csv) <= 6000 and a.total_rows == 5000
    lines = a.csv.decode().splitlines()
    assert lines[0] == "id,city,value" and lines[1].startswith("0,") and lines[20].startswith("19,")
    ids = [int(line.split(",")[0]) for line in lines[1:]]
    assert ids == sorted(ids) and max(ids) > 2500  # spread over the file, not just its start
    assert a.rows == len(ids)


def test_sample_keeps_quoted_fields_intact():
    sample = representative_sample(_csv(3000), 3000)
    assert all(line.count('"') == 2 for line in sample.csv.decode().splitlines()[1:])
