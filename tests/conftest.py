"""Suite-wide isolation: tests never pick up a developer's Gemini credentials or endpoints."""

from __future__ import annotations

import os

import pytest

# The Gemini SDK's own variables: with any of them set, ANALYST=auto would choose Gemini.
GEMINI_SDK_VARIABLES = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_CLOUD_LOCATION",
)

for _name in GEMINI_SDK_VARIABLES:  # before session fixtures start servers that inherit os.environ
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _no_gemini_environment(monkeypatch):
    for name in GEMINI_SDK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
