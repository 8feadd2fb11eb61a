"""scripts/fake_gemini.py (the command-line test double) drives a whole analysis through the real client."""

from __future__ import annotations

import pytest

from scripts.fake_gemini import respond
from shared.analysts.base import PartKind
from shared.analysts.select import make_analyst
from shared.settings import Settings
from tests.gemini_data import sales_frame
from tests.gemini_server import GeminiServer
from tests.pipeline_inputs import request_for

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["api_key", "vertex"])
def test_fake_server_answers_every_turn_with_code_it_ran_on_the_sent_file(mode):
    df = sales_frame(120)
    req = request_for(df, "sales.csv", questions="Total revenue per product?")
    with GeminiServer(responder=respond) as server:
        env = (
            {"GEMINI_API_KEY": "fake", "GOOGLE_GEMINI_BASE_URL": server.url}
            if mode == "api_key"
            else {
                "GOOGLE_GENAI_USE_VERTEXAI": "true",
                "GOOGLE_CLOUD_PROJECT": "local-project",
                "GOOGLE_CLOUD_LOCATION": "us-central1",
                "GOOGLE_VERTEX_BASE_URL": server.url,
            }
        )
        analysis = make_analyst(Settings(), env).analyze(req)
    assert {r.mode for r in server.requests} == {"gemini" if mode == "api_key" else "vertex"}
    assert [s.name for s in analysis.steps] == ["statistics", "charts", "insights", "questions"]
    charts = analysis.steps[1].images()
    assert [c.title for c in charts] == [
        "Distribution of units",
        "Box plot of the numeric columns",
        "units over time with trend",
        "Total units by product",
    ]
    assert all(c.image.startswith(b"\x89PNG") for c in charts)
    stats_output = next(p.output for p in analysis.steps[0].parts if p.kind is PartKind.RESULT)
    assert f"rows: {len(df)}" in stats_output
    assert f"The mean revenue is {df['revenue'].mean():.2f}" in " ".join(analysis.insights)
    assert analysis.warnings == []  # the insights agree with the profile
    assert analysis.usage.turns == 4 and analysis.usage.failed_cells == 0
