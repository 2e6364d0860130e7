"""Expected and actual SPARQL results in one comparable form, and their comparison.

The rules follow the established runners (Oxigraph's ``testsuite/src/sparql_evaluator.rs``, rdflib's
W3C runner):

* a SELECT result becomes an RDF graph in the DAWG result-set vocabulary (``rs:ResultSet``,
  ``rs:solution``, ``rs:binding``), with ``rs:index`` on each solution only when order matters, and two
  results are equal when these graphs are isomorphic: the blank nodes of the values match by one
  bijection over the whole result, solutions are a multiset;
* order matters when the query has a top-level ``ORDER BY`` and the expected file has an order
  (SRX/SRJ/TSV documents do; an RDF result set has it when its solutions carry ``rs:index``);
* CONSTRUCT/DESCRIBE results and the dataset after an update compare by isomorphism;
* typed literals are compared in their canonical form (``"01"^^xsd:integer`` = ``"1"^^xsd:integer``), on
  both sides, by a round trip through a pyoxigraph store, as Oxigraph's runner does
  (:data:`CANONICAL_LITERALS`). A lexical form an engine rewrites is a value-preserving change the suite's
  own runner accepts; turn the constant off to see where a server differs only by that.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
)

CANONICAL_LITERALS = True

RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
_PLAIN = {XSD + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
Term = NamedNode | BlankNode | Literal


def rs(name: str) -> NamedNode:
    return NamedNode(RS + name)


# ------------------------------------------------------------------ literals
class _Canon:
    """Canonical form of typed literals, as pyoxigraph's store keeps them (cached)."""

    def __init__(self) -> None:
        self.store = Store()
        self.cache: dict[Literal, Literal] = {}
        self.s = NamedNode("urn:x-canon:s")
        self.p = NamedNode("urn:x-canon:p")

    def __call__(self, term: Term) -> Term:
        if not CANONICAL_LITERALS or not isinstance(term, Literal) or term.datatype.value in _PLAIN:
            return term
        hit = self.cache.get(term)
        if hit is None:
            q = Quad(self.s, self.p, term, DefaultGraph())
            self.store.add(q)
            (back,) = list(self.store.quads_for_pattern(self.s, self.p, None, None))
            self.store.remove(back)
            hit = self.cache[term] = back.object  # type: ignore[assignment]
        return hit


canon = _Canon()


# ------------------------------------------------------------------ forms
@dataclass
class Solutions:
    variables: list[str]
    rows: list[dict[str, Term]]
    ordered: bool  # the document carries an order


@dataclass
class Boolean:
    value: bool


@dataclass
class GraphResult:
    quads: list[Quad]


Result = Solutions | Boolean | GraphResult

RESULT_EXT = {"srx": QueryResultsFormat.XML, "srj": QueryResultsFormat.JSON, "tsv": QueryResultsFormat.TSV}


def from_query_results(res: QuerySolutions | QueryBoolean) -> Solutions | Boolean:
    if isinstance(res, QueryBoolean):
        return Boolean(bool(res))
    variables = [v.value for v in res.variables]
    rows = [{v: sol[v] for v in variables if sol[v] is not None} for sol in res]
    return Solutions(variables, rows, ordered=True)  # type: ignore[misc]


def _from_result_set_graph(quads: list[Quad]) -> Result:
    by_s: dict[object, list[Quad]] = {}
    for q in quads:
        by_s.setdefault(q.subject, []).append(q)
    (root,) = [q.subject for q in quads if q.predicate == RDF_TYPE and q.object == rs("ResultSet")]

    def objs(s: object, p: str) -> list[object]:
        return [q.object for q in by_s.get(s, []) if q.predicate == rs(p)]

    booleans = objs(root, "boolean")
    if booleans:
        return Boolean(booleans[0].value == "true")  # type: ignore[attr-defined]
    variables = sorted(v.value for v in objs(root, "resultVariable"))  # type: ignore[attr-defined]
    rows: list[tuple[int | None, dict[str, Term]]] = []
    for sol in objs(root, "solution"):
        row = {}
        for b in objs(sol, "binding"):
            (var,) = objs(b, "variable")
            (val,) = objs(b, "value")
            row[var.value] = val  # type: ignore[attr-defined]
        idx = objs(sol, "index")
        rows.append((int(idx[0].value) if idx else None, row))  # type: ignore[attr-defined]
    ordered = bool(rows) and all(i is not None for i, _ in rows)
    if ordered:
        rows.sort(key=lambda r: r[0] or 0)
    return Solutions(variables, [r for _, r in rows], ordered)


def read_rdf(path: Path) -> list[Quad]:
    fmt = RdfFormat.from_extension(path.suffix[1:])
    if fmt is None:
        raise ValueError(f"unknown RDF format for {path}")
    return list(parse(path=str(path), format=fmt, base_iri=path.as_uri(), rename_blank_nodes=True))


def load_expected(path: Path) -> Result:
    """An expected-result file (SRX, SRJ, TSV, or RDF: a result set or a graph)."""
    ext = path.suffix[1:]
    if ext in RESULT_EXT:
        return from_query_results(parse_query_results(path=str(path), format=RESULT_EXT[ext]))
    quads = read_rdf(path)
    if any(q.predicate == RDF_TYPE and q.object == rs("ResultSet") for q in quads):
        return _from_result_set_graph(quads)
    return GraphResult(quads)


def parse_response(content: bytes, content_type: str) -> Result:
    mt = content_type.split(";")[0].strip().lower()
    rfmt = QueryResultsFormat.from_media_type(mt)
    if rfmt is not None and rfmt != QueryResultsFormat.CSV:
        return from_query_results(parse_query_results(content, format=rfmt))
    gfmt = RdfFormat.from_media_type(mt)
    if gfmt is None:
        raise AssertionError(f"response in an unexpected media type {content_type!r}")
    return GraphResult(list(parse(content, format=gfmt)))


# ------------------------------------------------------------------ comparison
def _result_set_dataset(s: Solutions, with_order: bool) -> Dataset:
    d = Dataset()
    g = DefaultGraph()
    root = BlankNode()
    d.add(Quad(root, RDF_TYPE, rs("ResultSet"), g))
    for v in s.variables:
        d.add(Quad(root, rs("resultVariable"), Literal(v), g))
    for i, row in enumerate(s.rows, 1):
        sol = BlankNode()
        d.add(Quad(root, rs("solution"), sol, g))
        if with_order:
            d.add(Quad(sol, rs("index"), Literal(str(i), datatype=NamedNode(XSD + "integer")), g))
        for var, val in row.items():
            b = BlankNode()
            d.add(Quad(sol, rs("binding"), b, g))
            d.add(Quad(b, rs("variable"), Literal(var), g))
            d.add(Quad(b, rs("value"), canon(val), g))
    return d


def dataset_of(quads: list[Quad]) -> Dataset:
    return Dataset(Quad(q.subject, q.predicate, canon(q.object), q.graph_name) for q in quads)


def isomorphic(a: Dataset, b: Dataset) -> bool:
    a.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    b.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return a == b


def _show(d: Dataset, limit: int = 12) -> str:
    lines = sorted(str(q) for q in d)
    more = f"\n  ... {len(lines) - limit} more" if len(lines) > limit else ""
    return "\n  ".join(lines[:limit]) + more


def diff_datasets(expected: Dataset, actual: Dataset) -> str | None:
    """None when isomorphic, else a short readable difference."""
    if isomorphic(expected, actual):
        return None
    exp = {str(q) for q in expected}
    act = {str(q) for q in actual}
    missing = sorted(exp - act)[:8]
    extra = sorted(act - exp)[:8]
    return f"{len(expected)} expected vs {len(actual)} actual quads (canonical blank nodes)\n missing: {missing}\n extra: {extra}"


def compare(expected: Result, actual: Result, ordered_query: bool) -> str | None:
    """None when ``actual`` is an acceptable answer, else why not."""
    if isinstance(expected, Boolean):
        if not isinstance(actual, Boolean):
            return f"expected the boolean {expected.value}, got {type(actual).__name__}"
        return None if expected.value == actual.value else f"expected {expected.value}, got {actual.value}"
    if isinstance(expected, GraphResult):
        if not isinstance(actual, GraphResult):
            return f"expected a graph, got {type(actual).__name__}"
        # a CONSTRUCT result is a graph: drop graph names the parser may have given
        exp = dataset_of([Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in expected.quads])
        act = dataset_of([Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in actual.quads])
        return diff_datasets(exp, act)
    if not isinstance(actual, Solutions):
        return f"expected solutions, got {type(actual).__name__}"
    if sorted(expected.variables) != sorted(actual.variables):
        return f"variables differ: expected {sorted(expected.variables)}, got {sorted(actual.variables)}"
    with_order = ordered_query and expected.ordered
    exp_d = _result_set_dataset(Solutions(sorted(expected.variables), expected.rows, expected.ordered), with_order)
    act_d = _result_set_dataset(Solutions(sorted(actual.variables), actual.rows, actual.ordered), with_order)
    if isomorphic(exp_d, act_d):
        return None
    return (
        f"solutions differ ({len(expected.rows)} expected, {len(actual.rows)} actual{', ordered' if with_order else ''}):\n"
        f" expected: {_rows(expected.rows)}\n actual:   {_rows(actual.rows)}"
    )


def _rows(rows: list[dict[str, Term]], limit: int = 8) -> str:
    shown = ["{" + ", ".join(f"{k}={canon(v)}" for k, v in sorted(r.items())) + "}" for r in rows[:limit]]
    return "[" + ", ".join(shown) + (f", ... {len(rows) - limit} more" if len(rows) > limit else "") + "]"


# ------------------------------------------------------------------ ORDER BY
_STRINGS = re.compile(r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')


def has_top_level_order_by(query: str) -> bool:
    """True when the outermost query has ORDER BY (strings, IRIs and comments ignored).

    >>> has_top_level_order_by('SELECT * { { SELECT ?x { ?x ?p ?o } ORDER BY ?x LIMIT 1 } }')
    False
    >>> has_top_level_order_by('SELECT * { ?s ?p "ORDER BY" } ORDER BY ?s')
    True
    """
    text = _STRINGS.sub(" ", query)
    depth = 0
    for m in re.finditer(r"[{}]|\bORDER\s+BY\b", text, re.IGNORECASE):
        tok = m.group(0)
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif depth == 0:
            return True
    return False


# ------------------------------------------------------------------ CSV
def compare_csv(expected_text: str, actual_text: str) -> str | None:
    """CSV results (RFC 4180 as the SPARQL 1.1 CSV format): the same variables in the header (in any
    order), the same rows as a multiset, blank node labels (``_:x``) matched by one bijection."""
    exp = list(csv.reader(io.StringIO(expected_text)))
    act = list(csv.reader(io.StringIO(actual_text)))
    if not exp or not act:
        return "empty CSV document"
    if sorted(exp[0]) != sorted(act[0]) or len(set(act[0])) != len(act[0]):
        return f"CSV header differs: expected {exp[0]}, got {act[0]}"
    # the order of the columns is not significant (no more than the order of variables elsewhere)
    cols = [act[0].index(v) for v in exp[0]]
    act = [act[0]] + [[r[i] for i in cols] if len(r) == len(cols) else r for r in act[1:]]
    if len(exp) != len(act):
        return f"expected {len(exp) - 1} rows, got {len(act) - 1}"
    if _csv_match(exp[1:], act[1:], {}, set()):
        return None
    return f"CSV rows differ:\n expected {exp[1:]}\n actual   {act[1:]}"


def _csv_match(exp: list[list[str]], act: list[list[str]], bmap: dict[str, str], used: set[str]) -> bool:
    if not exp:
        return True
    if Counter(len(r) for r in exp) != Counter(len(r) for r in act):
        return False
    first, rest = exp[0], exp[1:]
    for i, cand in enumerate(act):
        newmap = dict(bmap)
        newused = set(used)
        ok = len(cand) == len(first)
        for e, a in zip(first, cand):
            if not ok:
                break
            if e.startswith("_:") and a.startswith("_:"):
                if e in newmap:
                    ok = newmap[e] == a
                elif a in newused:
                    ok = False
                else:
                    newmap[e] = a
                    newused.add(a)
            else:
                ok = e == a
        if ok and _csv_match(rest, act[:i] + act[i + 1 :], newmap, newused):
            return True
    return False
