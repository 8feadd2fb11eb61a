"""Error classes, grouped by what the caller should do: retry (transient) or give up (permanent)."""

from __future__ import annotations


class PipelineError(Exception):
    """Root of every error the pipeline raises on purpose.

    ``code`` is a stable machine-readable identifier (it lands in the result message and the logs);
    the message is written for the person who dropped the file.
    """

    code = "pipeline_error"
    permanent = True
    # What an analyst produced before it failed (an Analysis), so the failure report loses nothing.
    partial_analysis = None

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class PermanentError(PipelineError):
    """Retrying cannot help: bad input, over a limit, blocked or invalid request."""

    code = "permanent_error"
    permanent = True


class TransientError(PipelineError):
    """A dependency was unavailable or slow; the same event may succeed later."""

    code = "transient_error"
    permanent = False


class InvalidCsvError(PermanentError):
    """The file cannot be read as a table (empty, binary, undecodable, malformed)."""

    code = "invalid_csv"


class LimitExceededError(PermanentError):
    """The file is over a configured limit (bytes, decompressed bytes, columns, cell length)."""

    code = "limit_exceeded"


class UnsupportedFileError(PermanentError):
    """The object is not a kind of file the pipeline analyses."""

    code = "unsupported_file"


class AnalysisError(PermanentError):
    """The analyst could not produce a valid analysis (failed code, blocked or truncated answer)."""

    code = "analysis_failed"


class ConfigurationError(PermanentError):
    """Settings or a rules file are invalid; raised at startup so the problem is seen at once."""

    code = "configuration_error"
