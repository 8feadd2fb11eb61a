"""Choosing the analyst from settings and the Gemini SDK's own environment variables."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shared.errors import ConfigurationError

if TYPE_CHECKING:
    from shared.analysts.base import Analyst
    from shared.analysts.gemini import GeminiConfig
    from shared.settings import Settings

log = logging.getLogger(__name__)


def make_analyst(settings: Settings, environ: Mapping[str, str] = os.environ) -> Analyst:
    """ANALYST=local → local; gemini → Gemini (or ConfigurationError naming what is missing);
    auto → Gemini when GEMINI_API_KEY/GOOGLE_API_KEY is set or GOOGLE_GENAI_USE_VERTEXAI is true with a
    project, else the local analyst."""
    from shared.analysts.gemini import GeminiAnalyst

    _, config = _choose(settings, environ)
    if config is not None:
        log.info("analyst: gemini", extra={"gemini": config.describe()})
        return GeminiAnalyst(settings, config=config)
    if settings.analyst != "local" and any(
        environ.get(n) for n in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE")
    ):
        from shared.analysts.gemini import GeminiConfig

        log.warning(
            "Vertex AI requested but not usable, using the local analyst: %s", GeminiConfig.missing(environ)
        )
    return _local(settings)


def analyst_kind(settings: Settings, environ: Mapping[str, str] = os.environ) -> str:
    """``"local"`` or ``"gemini"``: what ``make_analyst`` builds with these settings and variables
    (ConfigurationError as it, when ANALYST=gemini cannot be honoured). Builds nothing."""
    return _choose(settings, environ)[0]


def _choose(settings: Settings, environ: Mapping[str, str]) -> tuple[str, GeminiConfig | None]:
    from shared.analysts.gemini import GeminiConfig  # cheap: genai is imported lazily

    if settings.analyst == "local":
        return "local", None
    config = GeminiConfig.from_env(settings, environ)
    if config is not None:
        return "gemini", config
    if settings.analyst == "gemini":
        raise ConfigurationError(f"ANALYST=gemini but {GeminiConfig.missing(environ)}")
    return "local", None


def _local(settings: Settings) -> Analyst:
    from shared.analysts.local import LocalAnalyst

    return LocalAnalyst(settings)
