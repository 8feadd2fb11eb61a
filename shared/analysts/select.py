"""Choosing the analyst from settings and the Gemini SDK's own environment variables."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from shared.analysts.base import Analyst
    from shared.settings import Settings

log = logging.getLogger(__name__)


def make_analyst(settings: Settings, environ: Mapping[str, str] = os.environ) -> Analyst:
    """ANALYST=local → local; gemini → Gemini (or ConfigurationError naming what is missing);
    auto → Gemini when GEMINI_API_KEY/GOOGLE_API_KEY is set or GOOGLE_GENAI_USE_VERTEXAI is true with a
    project, else the local analyst."""
    from shared.analysts.gemini import GeminiAnalyst, GeminiConfig  # cheap: genai is imported lazily

    if settings.analyst == "local":
        return _local(settings)
    config = GeminiConfig.from_env(settings, environ)
    if config is not None:
        log.info("analyst: gemini", extra={"gemini": config.describe()})
        return GeminiAnalyst(settings, config=config)
    if settings.analyst == "gemini":
        raise ConfigurationError(f"ANALYST=gemini but {GeminiConfig.missing(environ)}")
    if any(environ.get(n) for n in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE")):
        log.warning(
            "Vertex AI requested but not usable, using the local analyst: %s", GeminiConfig.missing(environ)
        )
    return _local(settings)


def _local(settings: Settings) -> Analyst:
    from shared.analysts.local import LocalAnalyst

    return LocalAnalyst(settings)
