"""The Gemini analyst: google-genai with the code execution tool, in Vertex AI or Gemini API mode.

The only module that imports ``google.genai``, and only inside functions, so importing the analysts
package costs nothing on paths that do not call Gemini.

Configuration comes from the SDK's own environment variables, so an existing setup works unchanged:
``GOOGLE_GENAI_USE_VERTEXAI`` (or ``GOOGLE_GENAI_USE_ENTERPRISE``) with ``GOOGLE_CLOUD_PROJECT`` and
``GOOGLE_CLOUD_LOCATION`` (application default credentials) selects Vertex AI; otherwise
``GOOGLE_API_KEY`` / ``GEMINI_API_KEY`` selects the Gemini API. ``GOOGLE_VERTEX_BASE_URL`` and
``GOOGLE_GEMINI_BASE_URL`` move the endpoint (tests point them at a loopback server).

One retry layer (ours, not the SDK's retry_options): 429, 5xx, 408 and transport timeouts are retried
with exponential backoff and jitter while the per-file deadline allows, then raised as TransientError;
400/403/404 and safety blocks are permanent.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from shared.analysts import gemini_prompts as prompts
from shared.analysts.base import Analysis, AnalysisRequest, Outcome, Part, PartKind, Step, Usage
from shared.analysts.sampling import representative_sample
from shared.analysts.validation import Problem, check_turn, describe, follow_up_prompt
from shared.errors import AnalysisError, ConfigurationError, PermanentError, TransientError
from shared.settings import Settings

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_TRANSIENT_HTTP = {408, 429, 500, 502, 503, 504}
_MIN_REQUEST_S = 1.0  # no point starting a request with less time than this left


@dataclass(frozen=True)
class GeminiConfig:
    """Where and how to reach Gemini, resolved from the SDK's environment variables."""

    mode: str  # "vertex" | "api_key"
    model: str
    api_key: str | None = None
    project: str | None = None
    location: str | None = None
    base_url: str | None = None

    @classmethod
    def from_env(cls, settings: Settings, environ: Mapping[str, str]) -> GeminiConfig | None:
        """The configuration, or None when the environment configures neither mode."""
        if _vertex_requested(environ):
            project = environ.get("GOOGLE_CLOUD_PROJECT") or None
            if not project:
                return None
            return cls(
                mode="vertex",
                model=settings.gemini_model,
                project=project,
                # The SDK's own default when GOOGLE_CLOUD_LOCATION is unset.
                location=environ.get("GOOGLE_CLOUD_LOCATION") or "global",
                base_url=environ.get("GOOGLE_VERTEX_BASE_URL") or None,
            )
        key = environ.get("GOOGLE_API_KEY") or environ.get("GEMINI_API_KEY")  # the SDK's precedence
        if key:
            return cls(
                mode="api_key",
                model=settings.gemini_model,
                api_key=key,
                base_url=environ.get("GOOGLE_GEMINI_BASE_URL") or None,
            )
        return None

    @staticmethod
    def missing(environ: Mapping[str, str]) -> str:
        """What is missing, for a ConfigurationError when ANALYST=gemini cannot be honoured."""
        if _vertex_requested(environ):
            return "GOOGLE_GENAI_USE_VERTEXAI is true but GOOGLE_CLOUD_PROJECT is not set"
        return (
            "neither GEMINI_API_KEY / GOOGLE_API_KEY (Gemini API) nor GOOGLE_GENAI_USE_VERTEXAI=true with "
            "GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION (Vertex AI) is set"
        )

    def describe(self) -> str:
        where = f"Vertex AI {self.project}/{self.location}" if self.mode == "vertex" else "Gemini API"
        return f"{where}, model {self.model}" + (f", endpoint {self.base_url}" if self.base_url else "")


def _vertex_requested(environ: Mapping[str, str]) -> bool:
    # GOOGLE_GENAI_USE_ENTERPRISE wins over GOOGLE_GENAI_USE_VERTEXAI, as in the SDK.
    for name in ("GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_USE_VERTEXAI"):
        value = environ.get(name)
        if value is not None and value != "":
            return value.strip().lower() in _TRUE
    return False


def make_client(config: GeminiConfig, request_timeout_s: float) -> Any:
    """A google-genai Client for ``config`` (no network call is made here)."""
    from google import genai
    from google.genai import types

    http = types.HttpOptions(base_url=config.base_url, timeout=int(request_timeout_s * 1000))
    if config.mode == "vertex":
        credentials = None
        if config.base_url and _is_loopback(config.base_url):
            # A local test double cannot mint tokens and needs none: skip application default
            # credentials, which do not exist on a developer machine or CI.
            import google.oauth2.credentials

            credentials = google.oauth2.credentials.Credentials(token="loopback-test-double")
        return genai.Client(
            vertexai=True,
            project=config.project,
            location=config.location,
            credentials=credentials,
            http_options=http,
        )
    return genai.Client(api_key=config.api_key, http_options=http)


def _is_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in {"127.0.0.1", "localhost", "::1"}


# ---------------------------------------------------------------------------------------------------
# One chat with code execution: every part of every turn kept, usage counted, transport retried.


@dataclass
class Turn:
    parts: list[Part]
    finish_reason: str | None
    block_reason: str | None
    latency_s: float


@dataclass
class GeminiChat:
    """A code-execution chat that resends the whole history (code, results and images included)."""

    client: Any
    model: str
    system_instruction: str
    deadline: float  # time.monotonic() value
    request_timeout_s: float
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    usage: Usage = field(default_factory=Usage)
    history: list[Any] = field(default_factory=list)
    requests: int = 0

    def send(self, user_parts: list[Any]) -> Turn:
        """Send one user turn (SDK Parts or strings); return the model's parts in order."""
        from google.genai import types

        parts = [types.Part.from_text(text=p) if isinstance(p, str) else p for p in user_parts]
        contents = [*self.history, types.Content(role="user", parts=parts)]
        started = time.monotonic()
        response = self._generate(contents)
        latency = time.monotonic() - started
        self._count_usage(response, latency)

        block = response.prompt_feedback.block_reason if response.prompt_feedback else None
        candidate = response.candidates[0] if response.candidates else None
        content = candidate.content if candidate else None
        sdk_parts = list(content.parts or []) if content else []
        finish = _enum_name(candidate.finish_reason) if candidate else None
        ours = convert_parts(sdk_parts)
        self.usage.code_cells += sum(p.kind is PartKind.CODE for p in ours)
        self.usage.failed_cells += sum(
            p.kind is PartKind.RESULT and p.outcome is not Outcome.OK for p in ours
        )
        self.history = contents
        if sdk_parts:
            self.history.append(types.Content(role="model", parts=sdk_parts))
        log.info(
            "gemini turn",
            extra={
                "turn": self.usage.turns,
                "parts": len(ours),
                "finish": finish,
                "latency_s": round(latency, 3),
            },
        )
        return Turn(ours, finish, _enum_name(block) if block else None, latency)

    def _generate(self, contents: list[Any]) -> Any:
        from google.genai import errors, types

        config = types.GenerateContentConfig(
            system_instruction=self.system_instruction,
            tools=[types.Tool(code_execution=types.ToolCodeExecution())],
        )
        attempt = 0
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining < _MIN_REQUEST_S:
                raise TransientError(
                    f"the analysis deadline ran out before Gemini answered ({self.requests} requests made)",
                    code="gemini_deadline",
                )
            timeout = min(self.request_timeout_s, remaining)
            config.http_options = types.HttpOptions(timeout=max(1, int(timeout * 1000)))
            self.requests += 1
            attempt += 1
            try:
                return self.client.models.generate_content(model=self.model, contents=contents, config=config)
            except errors.APIError as err:
                failure = classify_api_error(err, self.model)
                hinted = retry_delay_hint(err)
            except Exception as err:  # transport level: the SDK lets httpx/httpx2 errors through
                failure = classify_transport_error(err)
                hinted = None
                if failure is None:
                    raise
            if failure.permanent:
                raise failure
            delay = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1)) * random.uniform(
                0.5, 1
            )
            if hinted is not None:  # the server's RetryInfo (429 quota errors) beats our guess
                delay = max(delay, hinted)
            if time.monotonic() + delay + _MIN_REQUEST_S > self.deadline:
                raise TransientError(
                    f"{failure.message}; gave up after {attempt} attempts within the analysis deadline",
                    code=failure.code,
                ) from failure
            log.warning(
                "gemini request failed, retrying",
                extra={"code": failure.code, "attempt": attempt, "delay_s": round(delay, 2)},
            )
            self.sleep(delay)

    def _count_usage(self, response: Any, latency: float) -> None:
        u = self.usage
        u.turns += 1
        u.latency_s = round(u.latency_s + latency, 3)
        u.turn_latencies_s.append(round(latency, 3))
        meta = response.usage_metadata
        if meta is None:
            return
        u.prompt_tokens += meta.prompt_token_count or 0
        u.output_tokens += meta.candidates_token_count or 0
        u.tool_use_prompt_tokens += meta.tool_use_prompt_token_count or 0
        u.thoughts_tokens += meta.thoughts_token_count or 0
        u.total_tokens += meta.total_token_count or 0


def classify_api_error(err: Any, model: str) -> PermanentError | TransientError:
    """HTTP code → what to do. 429 is a ClientError in the SDK but transient."""
    code = getattr(err, "code", None) or 0
    status = getattr(err, "status", None) or ""
    detail = (getattr(err, "message", None) or str(err))[:300]
    text = f"Gemini answered HTTP {code} {status}: {detail}"
    if code == 429:
        return TransientError(text, code="gemini_rate_limited")
    if code in _TRANSIENT_HTTP or code >= 500:
        return TransientError(text, code="gemini_unavailable")
    if code in (401, 403):
        return PermanentError(
            text + " (the caller needs roles/aiplatform.user on Vertex AI, or a valid API key)",
            code="gemini_permission_denied",
        )
    if code == 404:
        return PermanentError(
            f"{text} (is the model name {model!r} right for this endpoint and location?)",
            code="gemini_model_not_found",
        )
    return PermanentError(text, code="gemini_invalid_request")


def retry_delay_hint(err: Any) -> float | None:
    """Seconds from a google.rpc.RetryInfo detail (``"retryDelay": "17s"``), if the error carries one."""
    body = getattr(err, "details", None)
    if not isinstance(body, dict):
        return None
    details = (body.get("error") or body).get("details") or []
    for item in details if isinstance(details, list) else []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            m = re.fullmatch(r"\s*([\d.]+)s\s*", str(item.get("retryDelay", "")))
            if m:
                return float(m[1])
    return None


def classify_transport_error(err: Exception) -> TransientError | None:
    names = {cls.__name__ for cls in type(err).__mro__}
    if any("Timeout" in n for n in names):
        return TransientError(f"a Gemini request timed out ({type(err).__name__})", code="gemini_deadline")
    if names & {"TransportError", "NetworkError", "ConnectError", "RemoteProtocolError", "ConnectionError"}:
        return TransientError(
            f"Gemini could not be reached ({type(err).__name__}: {err})", code="gemini_unavailable"
        )
    return None


def _enum_name(value: Any) -> str:
    return getattr(value, "name", None) or str(value)


# ---------------------------------------------------------------------------------------------------
# SDK parts → our parts, with chart titles taken from the code that drew them.

_TITLE_CALL = re.compile(
    r"""\.(?:title|set_title|suptitle)\(\s*(?:label\s*=\s*)?[rRuUfF]?(?P<q>['"])(?P<t>.+?)(?P=q)"""
)


def convert_parts(sdk_parts: list[Any]) -> list[Part]:
    """Every part kept, in order: text, executable code, code execution result, inline images."""
    ours: list[Part] = []
    pending_titles: list[str] = []
    last_text: str | None = None
    for p in sdk_parts:
        if getattr(p, "thought", None):
            continue  # thought summaries are not part of the answer
        if p.executable_code is not None:
            source = p.executable_code.code or ""
            ours.append(Part.of_code(source))
            pending_titles = titles_in_code(source)
        elif p.code_execution_result is not None:
            r = p.code_execution_result
            ours.append(Part.of_result(_outcome(r.outcome), r.output or ""))
        elif p.inline_data is not None:
            mime = p.inline_data.mime_type or ""
            if mime.startswith("image/"):
                title = pending_titles.pop(0) if pending_titles else _title_from_text(last_text)
                ours.append(Part.of_image(p.inline_data.data or b"", title=title))
            else:
                ours.append(Part.of_text(f"[inline data of type {mime or 'unknown'} not shown]"))
        elif p.text is not None:
            ours.append(Part.of_text(p.text))
            last_text = p.text
    return ours


def titles_in_code(source: str) -> list[str]:
    """Chart titles set in matplotlib code, in order (f-string fields dropped)."""
    titles = []
    for m in _TITLE_CALL.finditer(source):
        title = re.sub(r"\{[^}]*\}", "", m["t"])
        title = re.sub(r"\(\s*\)|\[\s*\]", "", title).strip(" :-,")
        if title:
            titles.append(title[:80])
    return titles


def _title_from_text(text: str | None) -> str | None:
    if not text:
        return None
    line = next((ln.strip("#*:- ") for ln in text.splitlines() if ln.strip("#*:- ")), "")
    return line[:60] or None


def _outcome(value: Any) -> Outcome:
    name = _enum_name(value)
    if name == "OUTCOME_OK":
        return Outcome.OK
    if name == "OUTCOME_DEADLINE_EXCEEDED":
        return Outcome.DEADLINE_EXCEEDED
    return Outcome.FAILED


# ---------------------------------------------------------------------------------------------------
# The analyst.


class GeminiAnalyst:
    """Analyses one table in a code-execution chat: statistics → charts → insights (→ questions)."""

    kind = "gemini"

    def __init__(
        self,
        settings: Settings,
        client: Any = None,
        *,
        config: GeminiConfig | None = None,
        environ: Mapping[str, str] | None = None,
        backoff_initial_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import os

        environ = os.environ if environ is None else environ
        self.settings = settings
        self.config = config or GeminiConfig.from_env(settings, environ)
        if client is None and self.config is None:
            raise ConfigurationError("the Gemini analyst is not configured: " + GeminiConfig.missing(environ))
        self.model = self.config.model if self.config else settings.gemini_model
        self._client = client
        self._backoff = backoff_initial_s
        self._sleep = sleep

    @property
    def client(self) -> Any:
        if self._client is None:
            assert self.config is not None
            self._client = make_client(self.config, self.settings.gemini_request_timeout_s)
        return self._client

    def chat(self, system_instruction: str, deadline: float) -> GeminiChat:
        return GeminiChat(
            self.client,
            self.model,
            system_instruction,
            deadline,
            self.settings.gemini_request_timeout_s,
            backoff_initial_s=self._backoff,
            sleep=self._sleep,
        )

    def analyze(self, request: AnalysisRequest) -> Analysis:
        deadline = time.monotonic() + self.settings.analysis_deadline_s
        chat = self.chat(prompts.SYSTEM_INSTRUCTION, deadline)
        data_parts, warnings = self._data_parts(request)
        charts = prompts.CHARTS
        if request.aggregates is not None:
            charts = replace(charts, prompt=charts.prompt + prompts.AGGREGATE_CHARTS)
        turns = [prompts.STATISTICS, charts, prompts.INSIGHTS]
        if request.questions and request.questions.strip():
            turns.append(prompts.questions_turn(request.questions))

        steps: list[Step] = []
        analysis = Analysis("gemini", self.model, steps, [], chat.usage, succeeded=False, warnings=warnings)
        try:
            for n, spec in enumerate(turns):
                step = Step(spec.name, spec.title)
                steps.append(step)
                user = [*data_parts, spec.prompt] if n == 0 else [spec.prompt]
                self._run_step(chat, step, spec, user, warnings)
        except (PermanentError, TransientError) as err:
            # Nothing is lost: the caller can still render what Gemini produced before the failure.
            err.partial_analysis = analysis
            raise

        analysis.insights = extract_insights(steps[2])
        analysis.succeeded = True
        log.info(
            "gemini analysis finished",
            extra={"turns": chat.usage.turns, "requests": chat.requests, "tokens": chat.usage.total_tokens},
        )
        return analysis

    def _run_step(
        self, chat: GeminiChat, step: Step, spec: prompts.TurnSpec, user: list[Any], warnings: list[str]
    ) -> None:
        turn = chat.send(user)
        step.parts.extend(turn.parts)
        problems = self._problems(spec, turn, step)
        if not problems:
            return
        raise_if_permanent(problems, spec.name)
        log.warning(
            "gemini turn needs a follow-up", extra={"step": spec.name, "problems": [p.code for p in problems]}
        )
        second = chat.send([follow_up_prompt(problems)])
        step.parts.extend(second.parts)
        remaining = self._problems(spec, second, Step(spec.name, spec.title, second.parts))
        if remaining:
            raise_if_permanent(remaining, spec.name)
            first = remaining[0]
            raise AnalysisError(
                f"Gemini's {spec.name} step failed validation after one follow-up turn: "
                f"{describe(remaining)}",
                code=f"gemini_{first.code}",
            )
        warnings.append(
            f"Gemini's {spec.name} step was repaired in a follow-up turn after: {describe(problems)}"
        )

    @staticmethod
    def _problems(spec: prompts.TurnSpec, turn: Turn, step: Step) -> list[Problem]:
        problems = check_turn(
            turn.parts,
            finish_reason=turn.finish_reason,
            block_reason=turn.block_reason,
            expect_image=spec.expect_image,
            expect_text=not spec.expect_image,  # a charts answer may be figures only
        )
        if spec.name == "insights" and not problems and not extract_insights(step):
            problems.append(Problem("missing_insights", "no numbered list of insights was found", True))
        return problems

    def _data_parts(self, request: AnalysisRequest) -> tuple[list[Any], list[str]]:
        """The untrusted data block: intro, profile, aggregates of every row (a large file), the CSV
        (whole or sampled) as a text/csv part; then, for a large file, how to use the aggregates."""
        from google.genai import types

        warnings: list[str] = []
        profile_json = compact_profile_json(request.profile.to_dict())
        aggregates = request.aggregates
        block = prompts.profile_block(profile_json)
        if aggregates is not None:
            block += prompts.aggregates_block(aggregates.compact_json())
        budget = self.settings.prompt_budget_bytes
        data = request.data_csv
        sampled_rows: int | None = len(request.table.frame) if request.sampled and request.table else None
        if len(data) + len(block) > budget:
            sample = representative_sample(data, max(budget - len(block), budget // 4))
            data, sampled_rows = sample.csv, sample.rows
            total = request.profile.rows or sample.total_rows
            warnings.append(
                f"Gemini analysed a sample of {sample.rows} of {total} rows: the file as CSV is "
                f"{len(request.data_csv):,} bytes, over the prompt budget of {budget:,} bytes "
                "(PROMPT_BUDGET_BYTES). The profile and its statistics cover every row."
                + (" So do the aggregates Gemini was given." if aggregates is not None else "")
            )
        elif aggregates is not None:
            warnings.append(
                f"Gemini got a sample of {sampled_rows:,} of {request.profile.rows:,} rows with the profile and "
                "aggregates of every row (computed by DuckDB), and was told to take totals, statistics, "
                "histograms and series from the aggregates: numbers it computed from the sample are estimates."
            )
        elif request.sampled:
            warnings.append("Gemini analysed a sample of the rows, not the whole file.")
        intro = prompts.data_intro(
            request.source_name,
            request.profile.rows,
            len(request.profile.columns),
            len(request.data_csv),
            sampled_rows,
            large=request.sampled,
            aggregated=aggregates is not None,
        )
        parts: list[Any] = [
            intro + block,
            types.Part.from_bytes(data=data, mime_type="text/csv"),
            prompts.data_outro(),
        ]
        if aggregates is not None:
            parts.append(prompts.AGGREGATES_GUIDE)
        return parts, warnings


def raise_if_permanent(problems: list[Problem], step: str) -> None:
    for p in problems:
        if p.fixable:
            continue
        if p.safety:
            raise PermanentError(f"Gemini's {step} step was blocked: {p.message}", code="safety_block")
        raise AnalysisError(f"Gemini's {step} step failed: {p.message}", code=f"gemini_{p.code}")


def extract_insights(step: Step) -> list[str]:
    """The numbered (or bulleted) items of the insights step's text, at most five."""
    text = "\n".join(p.text or "" for p in step.parts if p.kind is PartKind.TEXT)
    items: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        m = re.match(r"^\s*(?:\d+[.)]|[-*•])\s+(.*\S)", line)
        if m:
            if current:
                items.append(" ".join(current))
            current = [m[1]]
        elif current is not None and line.strip():
            current.append(line.strip())
        elif current is not None:
            items.append(" ".join(current))
            current = None
    if current:
        items.append(" ".join(current))
    return [re.sub(r"\*\*(.+?)\*\*", r"\1", i) for i in items if i][:5]


def compact_profile_json(profile: dict[str, Any]) -> str:
    """The profile as compact JSON with floats at 6 significant digits (tokens cost money)."""

    def shrink(value: Any) -> Any:
        if isinstance(value, float):
            return value if not math.isfinite(value) else float(f"{value:.6g}")
        if isinstance(value, dict):
            return {k: shrink(v) for k, v in value.items() if v is not None}
        if isinstance(value, list | tuple):
            return [shrink(v) for v in value]
        return value

    return json.dumps(shrink(profile), separators=(",", ":"), ensure_ascii=False, default=str)
