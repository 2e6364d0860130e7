"""Run one W3C test case against a :class:`~tests.w3c.servers.Backend`; return why it failed, or None.

Queries and updates travel over the SPARQL protocol (POST, ``application/sparql-query`` /
``application/sparql-update``), data over the Graph Store Protocol. The request text is sent as
published, preceded by ``BASE <file IRI of the .rq/.ru>`` for evaluation tests: the protocol has no
parameter for a base IRI, and the suite's queries resolve relative IRIs (``GRAPH <data-g1.ttl>``)
against their file's IRI, which also names the graphs loaded from ``qt:graphData``. Syntax tests
are sent byte for byte.
"""

from __future__ import annotations

from tests.w3c.manifest import EvalCase, SyntaxCase
from tests.w3c.results import compare, compare_csv, dataset_of, diff_datasets, has_top_level_order_by, load_expected, parse_response, read_rdf
from tests.w3c.servers import Backend, LoadError

from pyoxigraph import NamedNode, Quad


def request_text(case: EvalCase) -> str:
    return f"BASE <{case.request.as_uri()}>\n" + case.request.read_text(encoding="utf-8")


def _http_error(what: str, r: object) -> str:
    return f"{what}: HTTP {r.status_code} {r.text[:400]}"  # type: ignore[attr-defined]


def run_eval(case: EvalCase, backend: Backend) -> str | None:
    try:
        return _run_eval(case, backend)
    except LoadError as e:
        return f"setup: {e}"


def _run_eval(case: EvalCase, backend: Backend) -> str | None:
    t = backend.fresh()
    for i, f in enumerate(case.data):
        t.load(None, f, replace=i == 0)
    for name, f in case.graph_data:
        t.load(name, f, replace=True)
    text = request_text(case)
    if case.kind == "csv":
        assert case.result is not None
        r = t.query(text, accept="text/csv")
        if r.status_code != 200:
            return _http_error("query", r)
        return compare_csv(case.result.read_text(encoding="utf-8"), r.text)
    if case.kind == "query":
        assert case.result is not None
        r = t.query(text)
        if r.status_code != 200:
            return _http_error("query", r)
        try:
            actual = parse_response(r.content, r.headers.get("content-type", ""))
        except (ValueError, SyntaxError, AssertionError) as e:
            return f"unreadable response ({r.headers.get('content-type')}): {e}"
        return compare(load_expected(case.result), actual, has_top_level_order_by(text))
    r = t.update(text)
    if r.status_code not in (200, 204):
        return _http_error("update", r)
    expected: list[Quad] = []
    if case.result is not None:
        expected += read_rdf(case.result)
    for name, f in case.result_graph_data:
        expected += [Quad(q.subject, q.predicate, q.object, NamedNode(name)) for q in read_rdf(f)]
    actual = t.dump()
    diff = diff_datasets(dataset_of(expected), dataset_of(actual))
    return None if diff is None else f"dataset after the update differs: {diff}"


def run_syntax(case: SyntaxCase, backend: Backend) -> str | None:
    """A positive test must be answered 2xx, a negative one 4xx; never 5xx."""
    try:
        t = backend.fresh() if case.kind == "update" else backend.shared()
    except LoadError as e:
        return f"setup: {e}"
    text = case.request.read_bytes()
    r = t.query(text) if case.kind == "query" else t.update(text)
    code = r.status_code
    if code >= 500:
        return _http_error("server error", r)
    if case.positive and not 200 <= code < 300:
        return _http_error("valid request refused", r)
    if not case.positive and not 400 <= code < 500:
        return _http_error("invalid request accepted", r)
    return None

