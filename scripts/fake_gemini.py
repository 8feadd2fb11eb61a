"""A local TEST DOUBLE of Gemini's REST API for demos without a Google account. It is not Gemini.

    python -m scripts.fake_gemini [--port P]

It serves the wire format the real google-genai client speaks (the Gemini API and Vertex AI paths, see
tests/gemini_server.py) and prints the environment that points the pipeline at it, for example:

    GEMINI_API_KEY=fake GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:P make analyze FILE=samples
    GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_CLOUD_PROJECT=local-project GOOGLE_CLOUD_LOCATION=us-central1 \
        GOOGLE_VERTEX_BASE_URL=http://127.0.0.1:P make demo

There is no model behind it. It recognises the turns of our own analysis chat (statistics, charts,
insights, questions, follow-ups) and the three free-form reference examples (compound interest, loan
amortization with an extra payment, the first 20 primes), and answers each with FIXED Python code that
it really runs in a subprocess on the CSV sent in the request (like Gemini's sandbox: the file is
``input_file_0.csv``, figures are captured at ``plt.show()``). So outputs and charts are real numbers
of the file, but the code, the prose and the choice of analysis never change: this exercises the
pipeline's Gemini path end to end, not the quality of an analysis. Token counts are rough estimates
(bytes / 4). Anything it does not recognise gets a plain text answer saying so.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from tests.gemini_server import GeminiServer, Recorded, code, image, result, text

CELL_TIMEOUT_S = 30.0  # Gemini's documented per-execution limit

# Runs before the shown code, like the sandbox's own setup: headless matplotlib, figures saved on show().
_SANDBOX_PRELUDE = textwrap.dedent("""\
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as _plt
    _shown = [0]
    def _show(*args, **kwargs):
        for num in _plt.get_fignums():
            _shown[0] += 1
            _plt.figure(num).savefig(f"__figure_{_shown[0]:02d}.png", dpi=80, bbox_inches="tight")
        _plt.close("all")
    _plt.show = _show
""")

_LOAD = textwrap.dedent("""\
    import os
    import numpy as np
    import pandas as pd
    df = pd.read_csv(sorted(f for f in os.listdir('.') if f.endswith('.csv'))[0])
    for c in df.columns:
        if pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object:
            parsed = pd.to_datetime(df[c], errors='coerce', format='ISO8601')
            if parsed.notna().mean() > 0.9:
                df[c] = parsed
    num = [c for c in df.select_dtypes('number').columns if df[c].nunique() > 1]
    cat = [c for c in df.columns if c not in num and not pd.api.types.is_datetime64_any_dtype(df[c])
           and not pd.api.types.is_bool_dtype(df[c]) and 1 < df[c].nunique() <= 50]
    dt = [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]
    def by_period(col):
        s = df.dropna(subset=[dt[0]]).set_index(dt[0])[col].sort_index()
        span = (s.index.max() - s.index.min()).days
        rule, name = ('MS', 'month') if span > 120 else ('D', 'day')
        return s.resample(rule).sum(), name
""")

STATISTICS = _LOAD + textwrap.dedent("""\
    print(f"rows: {len(df)}, columns: {len(df.columns)}")
    if num:
        print(df[num].describe().T.round(3).to_string())
    for c in num:
        q1, q3 = df[c].quantile([0.25, 0.75])
        iqr = q3 - q1
        n = int(((df[c] < q1 - 1.5 * iqr) | (df[c] > q3 + 1.5 * iqr)).sum())
        print(f"IQR outliers in {c}: {n}")
    if cat and num:
        g = df.groupby(cat[0])[num[0]].agg(['sum', 'mean', 'count']).sort_values('sum', ascending=False)
        print(g.head(10).round(3).to_string())
    if dt and num:
        totals, period = by_period(num[0])
        growth = totals.pct_change().replace([np.inf, -np.inf], np.nan) * 100
        print(f"{num[0]} per {period} (last 5):")
        print(totals.tail(5).round(3).to_string())
        print(f"mean {period}-over-{period} growth of {num[0]}: {growth.mean():.2f}%")
""")


def charts_code(csv: bytes) -> str:
    """The charts cell, with the file's column names written in as literals (as a model would)."""
    num, cat, dt = detect_columns(csv)
    src = _LOAD + "import matplotlib.pyplot as plt\n"
    if num:
        src += textwrap.dedent(f"""\
            plt.figure(figsize=(6, 4))
            plt.hist(df[{num[0]!r}].dropna(), bins=30)
            plt.title({"Distribution of " + num[0]!r})
            plt.xlabel({num[0]!r}); plt.ylabel("count")
            plt.show()
            plt.figure(figsize=(6, 4))
            plt.boxplot([df[c].dropna() for c in {num[:6]!r}])
            plt.xticks(range(1, {len(num[:6]) + 1}), {num[:6]!r})
            plt.title("Box plot of the numeric columns")
            plt.show()
        """)
    if dt and num:
        src += textwrap.dedent(f"""\
            totals, period = by_period({num[0]!r})
            x = np.arange(len(totals))
            plt.figure(figsize=(7, 4))
            plt.plot(totals.index, totals.values, label={num[0]!r})
            if len(totals) > 1:
                slope, intercept = np.polyfit(x, totals.values, 1)
                plt.plot(totals.index, slope * x + intercept, '--', label='linear trend')
            plt.title({num[0] + " over time with trend"!r})
            plt.legend()
            plt.show()
        """)
    if cat and num:
        src += textwrap.dedent(f"""\
            g = df.groupby({cat[0]!r})[{num[0]!r}].sum().sort_values(ascending=False).head(10)
            plt.figure(figsize=(6, 4))
            g.plot.bar()
            plt.title({"Total " + num[0] + " by " + cat[0]!r})
            plt.show()
        """)
    return src + 'print("charts drawn")\n'


def detect_columns(csv: bytes) -> tuple[list[str], list[str], list[str]]:
    """numeric, categorical and date columns, by the same rules as the cells' own loading code."""
    scope: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="fake-gemini-") as tmp:
        (Path(tmp) / "data.csv").write_bytes(csv)
        exec(
            _LOAD.replace("os.listdir('.')", f"os.listdir({tmp!r})").replace(
                "pd.read_csv(sorted", f"pd.read_csv({tmp!r} + '/' + sorted"
            ),
            scope,
        )
    return scope["num"], scope["cat"], scope["dt"]


INSIGHTS = _LOAD + textwrap.dedent("""\
    lines = []
    for c in num[:2]:
        mean, median = df[c].mean(), df[c].median()
        lines.append(f"The mean {c} is {mean:.2f} (median {median:.2f}) over {df[c].count()} values.")
    if num:
        c = num[0]
        q1, q3 = df[c].quantile([0.25, 0.75])
        iqr = q3 - q1
        n = int(((df[c] < q1 - 1.5 * iqr) | (df[c] > q3 + 1.5 * iqr)).sum())
        lines.append(f"{n} values of {c} are IQR outliers; the largest value is {df[c].max():.2f}.")
    if cat and num:
        g = df.groupby(cat[0])[num[0]].sum().sort_values(ascending=False)
        lines.append(f"{g.index[0]} leads {cat[0]} with a total {num[0]} of {g.iloc[0]:.2f}, "
                     f"{100 * g.iloc[0] / g.sum():.1f}% of all.")
    if dt and num:
        totals, period = by_period(num[0])
        if len(totals) > 1 and totals.iloc[0]:
            lines.append(f"Per {period}, {num[0]} went from {totals.iloc[0]:.2f} to {totals.iloc[-1]:.2f}, "
                         f"a change of {100 * (totals.iloc[-1] / totals.iloc[0] - 1):.1f}%.")
    if len(lines) < 3:
        lines.append(f"The file has {len(df)} rows and {len(df.columns)} columns.")
    for i, line in enumerate(lines[:5], 1):
        print(f"{i}. {line}")
""")

QUESTIONS = _LOAD + textwrap.dedent("""\
    for c in cat[:2]:
        print(f"total of each numeric column per {c}:")
        print(df.groupby(c)[num].sum().round(2).to_string())
    if dt and num:
        totals, period = by_period(num[0])
        growth = totals.pct_change().replace([np.inf, -np.inf], np.nan) * 100
        print(f"{period}-over-{period} growth of {num[0]} (%, last 10):")
        print(growth.tail(10).round(2).to_string())
""")


def _number(prompt: str, pattern: str, default: float) -> float:
    m = re.search(pattern, prompt, re.IGNORECASE)
    return float(m.group(1).replace(",", "")) if m else default


def compound_interest(prompt: str, chart: bool) -> str:
    p = _number(prompt, r"\$\s?([\d,]+(?:\.\d+)?)", 10000)
    r = _number(prompt, r"([\d.]+)\s?%", 5)
    years = int(_number(prompt, r"(\d+)\s*years?", 10))
    src = textwrap.dedent(f"""\
        principal, rate, years, per_year = {p}, {r} / 100, {years}, 12
        balances = [principal * (1 + rate / per_year) ** (per_year * y) for y in range(years + 1)]
        for y, b in enumerate(balances):
            print(f"year {{y:2d}}: {{b:,.2f}}")
        print(f"final amount: {{balances[-1]:,.2f}}; interest earned: {{balances[-1] - principal:,.2f}}")
    """)
    if chart:
        src += textwrap.dedent("""\
            import matplotlib.pyplot as plt
            plt.plot(range(years + 1), balances, marker='o')
            plt.title('Compound interest: balance by year')
            plt.xlabel('year'); plt.ylabel('balance')
            plt.show()
        """)
    return src


def loan_amortization(prompt: str, chart: bool) -> str:
    amount = _number(prompt, r"\$\s?([\d,]+(?:\.\d+)?)", 200000)
    rate = _number(prompt, r"([\d.]+)\s?%", 6)
    years = int(_number(prompt, r"(\d+)[- ]years?", 30))
    extra = _number(prompt, r"extra (?:payment of )?\$\s?([\d,]+(?:\.\d+)?)", 200)
    src = textwrap.dedent(f"""\
        amount, rate, years, extra = {amount}, {rate} / 100 / 12, {years}, {extra}
        n = years * 12
        payment = amount * rate / (1 - (1 + rate) ** -n)
        def schedule(extra_payment):
            balance, month, interest, balances = amount, 0, 0.0, [amount]
            while balance > 0.005 and month < 1000:
                month += 1
                i = balance * rate
                interest += i
                balance = max(0.0, balance + i - payment - extra_payment)
                balances.append(balance)
            return month, interest, balances
        m0, i0, b0 = schedule(0)
        m1, i1, b1 = schedule(extra)
        print(f"monthly payment: {{payment:,.2f}}")
        print(f"without extra: {{m0}} months, total interest {{i0:,.2f}}")
        print(f"with {{extra:,.2f}} extra per month: {{m1}} months, total interest {{i1:,.2f}}")
        print(f"interest saved: {{i0 - i1:,.2f}}; paid off {{m0 - m1}} months earlier")
    """)
    if chart:
        src += textwrap.dedent("""\
            import matplotlib.pyplot as plt
            plt.plot(b0, label='regular payments')
            plt.plot(b1, label=f'with {extra:,.0f} extra')
            plt.title('Loan balance over time')
            plt.xlabel('month'); plt.ylabel('balance'); plt.legend()
            plt.show()
        """)
    return src


def primes(prompt: str, chart: bool) -> str:
    count = int(_number(prompt, r"first (\d+)", 20))
    src = textwrap.dedent(f"""\
        primes = []
        n = 2
        while len(primes) < {count}:
            if all(n % p for p in primes if p * p <= n):
                primes.append(n)
            n += 1
        print("primes:", primes)
        print("sum:", sum(primes))
    """)
    if chart:
        src += textwrap.dedent("""\
            import matplotlib.pyplot as plt
            plt.bar(range(1, len(primes) + 1), primes)
            plt.title('The first primes')
            plt.show()
        """)
    return src


_ASK = [(r"compound", compound_interest), (r"amorti|loan|mortgage", loan_amortization), (r"prime", primes)]
_TURNS = {
    "Turn 1 - statistics": ("Computing the statistics with pandas.", STATISTICS),
    "Turn 2 - charts": ("Drawing the charts with matplotlib.", charts_code),
    "Turn 3 - insights": (None, INSIGHTS),
    "Turn 4 - the uploader": ("Answering the questions with totals per category and growth.", QUESTIONS),
}


def run_cell(source: str, workdir: Path) -> tuple[str, str, list[bytes]]:
    """Run ``source`` like the sandbox would: (outcome, output, PNGs shown)."""
    for old in workdir.glob("__figure_*.png"):
        old.unlink()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SANDBOX_PRELUDE + source],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=CELL_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return "OUTCOME_DEADLINE_EXCEEDED", "", []
    pngs = [p.read_bytes() for p in sorted(workdir.glob("__figure_*.png"))]
    if proc.returncode != 0:
        return "OUTCOME_FAILED", (proc.stdout + proc.stderr)[-4000:], pngs
    return "OUTCOME_OK", proc.stdout[-8000:], pngs


def respond(request: Recorded) -> dict[str, Any]:
    """The scripted answer to one generateContent request."""
    contents = request.body.get("contents", [])
    user_texts = [
        p["text"] for c in contents if c.get("role") == "user" for p in c.get("parts", []) if "text" in p
    ]
    last = user_texts[-1] if user_texts else ""
    turn = next((k for t in reversed(user_texts) for k in _TURNS if t.startswith(k)), None)
    with tempfile.TemporaryDirectory(prefix="fake-gemini-") as tmp:
        workdir = Path(tmp)
        if turn is not None:
            csv = next((_blob(p) for c in contents for p in c.get("parts", []) if _blob(p) is not None), b"")
            (workdir / "input_file_0.csv").write_bytes(csv)
            intro, source = _TURNS[turn]
            parts = _run(source(csv) if callable(source) else source, workdir, intro)
            if turn.startswith("Turn 3"):
                outputs = [p["codeExecutionResult"]["output"] for p in parts if "codeExecutionResult" in p]
                parts.append(text(outputs[-1].strip() if outputs else "No insights could be computed."))
            elif turn.startswith("Turn 2"):
                parts.append(text("Each figure above shows one view of the data, titled by what it shows."))
            else:
                parts.append(text("The printed values above are the computed results."))
        else:
            wants_chart = bool(re.search(r"chart|plot|graph|draw|visuali", last, re.IGNORECASE))
            maker = next((f for pattern, f in _ASK if re.search(pattern, last, re.IGNORECASE)), None)
            if maker is None:
                parts = [
                    text(
                        "This is a local test double of the Gemini API, not Gemini: it only answers the "
                        "project's analysis turns and the compound interest, loan amortization and "
                        "prime number examples."
                    )
                ]
            else:
                parts = _run(maker(last, wants_chart), workdir, "Computing this with code.")
                out = parts[2]["codeExecutionResult"]["output"].strip().splitlines() if len(parts) > 2 else []
                parts.append(text(f"Result: {out[-1]}" if out else "The code printed nothing."))
    prompt_tokens = len(json.dumps(request.body)) // 4
    images = sum("inlineData" in p for p in parts)
    output_tokens = len(json.dumps([p for p in parts if "inlineData" not in p])) // 4 + 258 * images
    return {
        "json": {
            "candidates": [
                {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": output_tokens,
                "toolUsePromptTokenCount": output_tokens // 2,
                "totalTokenCount": prompt_tokens + output_tokens + output_tokens // 2,
            },
            "modelVersion": "fake-gemini-test-double",
        }
    }


def _run(source: str, workdir: Path, intro: str | None) -> list[dict[str, Any]]:
    outcome, output, pngs = run_cell(source, workdir)
    parts = [text(intro)] if intro else []
    parts += [code(source), result(output, outcome)]
    parts += [image(png) for png in pngs]
    return parts


def _blob(part: dict[str, Any]) -> bytes | None:
    blob = part.get("inlineData") or part.get("inline_data")
    if not blob or (blob.get("mimeType") or blob.get("mime_type")) != "text/csv":
        return None
    data = blob["data"]
    return base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_") + "=" * (-len(data) % 4))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local test double of the Gemini REST API (not Gemini).")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    server = GeminiServer(responder=respond, port=args.port)
    url = server.url
    print(f"fake Gemini (a test double speaking the REST wire format, NOT Gemini) listening on {url}")
    print(f"  Gemini API mode: GEMINI_API_KEY=fake GOOGLE_GEMINI_BASE_URL={url}")
    print(
        f"  Vertex AI mode:  GOOGLE_GENAI_USE_VERTEXAI=true GOOGLE_CLOUD_PROJECT=local-project "
        f"GOOGLE_CLOUD_LOCATION=us-central1 GOOGLE_VERTEX_BASE_URL={url}",
        flush=True,
    )
    try:
        server.start()
        server._thread.join()  # serve until interrupted
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
