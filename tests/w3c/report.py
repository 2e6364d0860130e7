"""Outcomes of the W3C replays, kept for the summary tests and written to a Markdown report.

Each per-case test records its outcome here; the summary test of a suite reuses them, runs the
cases that were not run in this session (``-k`` selections), checks the threshold and writes
``w3c-<suite>-<backend>.md`` into ``$KG_TWIN_W3C_REPORT_DIR`` (default: the pytest temporary
directory), listing every failure with its recorded cause.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

OUTCOMES: dict[tuple[str, str], dict[str, str | None]] = {}


def record(suite: str, backend: str, case_id: str, reason: str | None) -> None:
    OUTCOMES.setdefault((suite, backend), {})[case_id] = reason


def complete(suite: str, backend: str, ids: Sequence[str], run: Callable[[str], str | None]) -> dict[str, str | None]:
    got = OUTCOMES.setdefault((suite, backend), {})
    for cid in ids:
        if cid not in got:
            got[cid] = run(cid)
    return {cid: got[cid] for cid in ids}


def write(suite: str, backend: str, outcomes: dict[str, str | None], known: dict[str, str], skipped: dict[str, str], default_dir: Path) -> Path:
    failed = {k: v for k, v in outcomes.items() if v is not None}
    lines = [
        f"# W3C {suite}: {backend}",
        "",
        f"{len(outcomes) - len(failed)} / {len(outcomes)} pass; {len(skipped)} not run.",
        "",
        "| test | recorded cause | what happened |",
        "|---|---|---|",
    ]
    for cid, why in failed.items():
        first = (why or "").splitlines()[0][:200].replace("|", "\\|")
        lines.append(f"| `{cid}` | {known.get(cid, '**not in the known list**')} | {first} |")
    if skipped:
        lines += ["", "Not run:", ""] + [f"- `{k}`: {v}" for k, v in skipped.items()]
    out_dir = Path(os.environ.get("KG_TWIN_W3C_REPORT_DIR") or default_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"w3c-{suite}-{backend}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
