"""W3C SPARQL 1.1 query and update evaluation tests (329), replayed over HTTP, manifests as published.

Each case runs on a fresh dataset of the server: ``qt:data`` / ``ut:data`` into the default graph,
``qt:graphData`` into named graphs named by the data file's IRI, ``ut:graphData`` into the graph its
``rdfs:label`` names; then the query or update goes over the SPARQL protocol and the answer (or the
whole dataset, after an update) is compared with the expected files (see ``tests/w3c/results.py``).

The same replay runs against ``oxigraph serve`` (the reference: the engine kg-twin embeds) and
against kg-twin. A failure listed in ``known_failures.py`` is an expected failure with its cause
(strict: when it starts passing, remove it from the list). ``test_eval_summary`` checks the
threshold of the backend and writes the failures to ``w3c-eval-<backend>.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.w3c import report
from tests.w3c.known_failures import EVAL_KNOWN, EVAL_THRESHOLD
from tests.w3c.manifest import OUT_OF_SCOPE, EvalCase, load_suite
from tests.w3c.runner import run_eval
from tests.w3c.servers import Backend

SUITE = load_suite()
CASES = {c.id: c for c in SUITE.eval}
BACKENDS = ["oxigraph", "kg-twin"]
SLOW = {"kg-twin"}  # ~100 s on 2 cores (a project per test); oxigraph takes ~6 s


def _params() -> list[object]:
    out = []
    for b in BACKENDS:
        for c in SUITE.eval:
            marks = [pytest.mark.slow] if b in SLOW else []
            if c.id in EVAL_KNOWN[b]:
                marks.append(pytest.mark.xfail(reason=EVAL_KNOWN[b][c.id], strict=True))
            out.append(pytest.param(b, c, id=f"{b}-{c.id}", marks=marks))
    return out


def test_suite_is_read_whole() -> None:
    assert len(SUITE.eval) == 329, len(SUITE.eval)
    assert SUITE.other == []
    for b in BACKENDS:  # the known-failure lists name real tests
        assert set(EVAL_KNOWN[b]) <= set(CASES), set(EVAL_KNOWN[b]) - set(CASES)


@pytest.mark.parametrize(("backend", "case"), _params(), indirect=["backend"])
def test_eval(backend: Backend, case: EvalCase) -> None:
    reason = run_eval(case, backend)
    report.record("eval", backend.name, case.id, reason)
    assert reason is None, reason


@pytest.mark.parametrize("backend", [pytest.param(b, marks=[pytest.mark.slow] if b in SLOW else []) for b in BACKENDS], indirect=True)
def test_eval_summary(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    outcomes = report.complete("eval", backend.name, list(CASES), lambda cid: run_eval(CASES[cid], backend))
    passed = sum(1 for v in outcomes.values() if v is None)
    path = report.write("eval", backend.name, outcomes, EVAL_KNOWN[backend.name], {k: v for k, v in OUT_OF_SCOPE.items()}, tmp_path_factory.mktemp("w3c"))
    failed = [f"{k}: {(v or '').splitlines()[0][:160]}" for k, v in outcomes.items() if v is not None]
    print(f"\nW3C SPARQL 1.1 evaluation on {backend.name}: {passed}/{len(outcomes)} pass (report: {path})\n  " + "\n  ".join(failed))
    assert passed >= EVAL_THRESHOLD[backend.name], f"{passed}/{len(outcomes)} pass on {backend.name}, below {EVAL_THRESHOLD[backend.name]}; see {path}"
