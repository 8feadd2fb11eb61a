"""Which analyst runs: settings and the Gemini SDK's own environment variables decide."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from shared.analysts.gemini import GeminiConfig
from shared.analysts.select import make_analyst
from shared.errors import ConfigurationError
from shared.settings import Settings

HAS_LOCAL = importlib.util.find_spec("shared.analysts.local") is not None


@pytest.mark.parametrize(
    ("env", "mode", "detail"),
    [
        ({"GEMINI_API_KEY": "g"}, "api_key", "g"),
        ({"GOOGLE_API_KEY": "a", "GEMINI_API_KEY": "g"}, "api_key", "a"),  # the SDK prefers GOOGLE_API_KEY
        (
            {"GOOGLE_GENAI_USE_VERTEXAI": "true", "GOOGLE_CLOUD_PROJECT": "p", "GOOGLE_CLOUD_LOCATION": "eu"},
            "vertex",
            "p/eu",
        ),
        (
            {"GOOGLE_GENAI_USE_VERTEXAI": "1", "GOOGLE_CLOUD_PROJECT": "p", "GEMINI_API_KEY": "g"},
            "vertex",
            "p/global",
        ),
        ({"GOOGLE_GENAI_USE_ENTERPRISE": "true", "GOOGLE_CLOUD_PROJECT": "p"}, "vertex", "p/global"),
    ],
)
def test_sdk_variables_select_gemini_in_auto_mode(env, mode, detail):
    analyst = make_analyst(Settings(), env)
    assert analyst.kind == "gemini" and analyst.config.mode == mode
    c = analyst.config
    assert detail == (c.api_key if mode == "api_key" else f"{c.project}/{c.location}")


def test_base_urls_come_from_the_sdk_variables_of_the_chosen_mode():
    env = {
        "GEMINI_API_KEY": "g",
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:1",
        "GOOGLE_VERTEX_BASE_URL": "x",
    }
    assert GeminiConfig.from_env(Settings(), env).base_url == "http://127.0.0.1:1"
    env["GOOGLE_GENAI_USE_VERTEXAI"] = "true"
    env["GOOGLE_CLOUD_PROJECT"] = "p"
    assert GeminiConfig.from_env(Settings(), env).base_url == "x"


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"GOOGLE_GENAI_USE_VERTEXAI": "true"},
        {"GOOGLE_GENAI_USE_VERTEXAI": "false", "GOOGLE_CLOUD_PROJECT": "p"},
    ],
)
def test_explicit_gemini_without_configuration_names_the_missing_variables(env):
    with pytest.raises(ConfigurationError) as info:
        make_analyst(Settings(analyst="gemini"), env)
    assert "GOOGLE_CLOUD_PROJECT" in info.value.message
    assert ("GEMINI_API_KEY" in info.value.message) or (
        "GOOGLE_GENAI_USE_VERTEXAI is true" in info.value.message
    )


@pytest.mark.skipif(not HAS_LOCAL, reason="shared.analysts.local is written on another branch")
@pytest.mark.parametrize(
    ("analyst", "env"),
    [("auto", {}), ("local", {"GEMINI_API_KEY": "g"}), ("auto", {"GOOGLE_GENAI_USE_VERTEXAI": "true"})],
)
def test_local_is_the_default_and_can_be_forced(analyst, env):
    assert make_analyst(Settings(analyst=analyst), env).kind == "local"


def test_selecting_gemini_does_not_import_the_sdk():
    code = (
        "import sys; from shared.settings import Settings; from shared.analysts.select import make_analyst; "
        "make_analyst(Settings(), {'GEMINI_API_KEY': 'g'}); print('google.genai' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "False"
