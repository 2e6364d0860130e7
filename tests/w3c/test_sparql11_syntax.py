"""W3C SPARQL 1.1 syntax tests (169: positive and negative, query and update), over HTTP.

Each request goes to the server as published, byte for byte. A positive test must be answered 2xx,
a negative one 4xx, and no test 5xx. Positive queries share one empty dataset; each update gets a
fresh one. Tests whose request would fetch from the network (``LOAD <http://example.org/...>``)
are skipped on oxigraph serve (it would connect): tests stay on 127.0.0.1. kg-twin runs them: its
outbound policy refuses LOAD before any connection.
"""

from __future__ import annotations

import pytest

from tests.w3c import report
from tests.w3c.known_failures import SYNTAX_KNOWN, SYNTAX_THRESHOLD
from tests.w3c.manifest import SyntaxCase, load_suite, needs_network
from tests.w3c.runner import run_syntax
from tests.w3c.servers import Backend

SUITE = load_suite()
NETWORK = {c.id: why for c in SUITE.syntax if (why := needs_network(c.request))}
CASES = {c.id: c for c in SUITE.syntax if c.id not in NETWORK}
ALL_CASES = {c.id: c for c in SUITE.syntax}


def _cases(backend: str) -> dict[str, SyntaxCase]:
    return ALL_CASES if backend == "kg-twin" else CASES
BACKENDS = ["oxigraph", "kg-twin"]


def _params() -> list[object]:
    out = []
    for b in BACKENDS:
        for c in SUITE.syntax:
            marks = []
            if c.id in NETWORK and b != "kg-twin":
                marks.append(pytest.mark.skip(reason=NETWORK[c.id]))
            elif c.id in SYNTAX_KNOWN[b]:
                marks.append(pytest.mark.xfail(reason=SYNTAX_KNOWN[b][c.id], strict=True))
            out.append(pytest.param(b, c, id=f"{b}-{c.id}", marks=marks))
    return out


def test_suite_is_read_whole() -> None:
    assert len(SUITE.syntax) == 169, len(SUITE.syntax)
    assert len(NETWORK) == 4, NETWORK  # syntax-update-01..04: LOAD <http://example.org/faraway>
    for b in BACKENDS:
        assert set(SYNTAX_KNOWN[b]) <= set(_cases(b)), set(SYNTAX_KNOWN[b]) - set(_cases(b))


@pytest.mark.parametrize(("backend", "case"), _params(), indirect=["backend"])
def test_syntax(backend: Backend, case: SyntaxCase) -> None:
    reason = run_syntax(case, backend)
    report.record("syntax", backend.name, case.id, reason)
    assert reason is None, reason


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_syntax_summary(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> None:
    cases = _cases(backend.name)
    outcomes = report.complete("syntax", backend.name, list(cases), lambda cid: run_syntax(cases[cid], backend))
    passed = sum(1 for v in outcomes.values() if v is None)
    server_errors = [k for k, v in outcomes.items() if v is not None and v.startswith("server error")]
    path = report.write("syntax", backend.name, outcomes, SYNTAX_KNOWN[backend.name], NETWORK if backend.name != "kg-twin" else {}, tmp_path_factory.mktemp("w3c"))
    print(f"\nW3C SPARQL 1.1 syntax on {backend.name}: {passed}/{len(outcomes)} pass, {len(server_errors)} answered 5xx (report: {path})")
    assert passed >= SYNTAX_THRESHOLD[backend.name], f"{passed}/{len(outcomes)} pass on {backend.name}; see {path}"
    if backend.name == "kg-twin":
        assert server_errors == [], f"answered 5xx: {server_errors}"
