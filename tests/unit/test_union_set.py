"""The union default graph is a set: kg_twin.sparql.union over pyoxigraph's bag-merged default graphs.

Property test: for every SELECT / ASK / CONSTRUCT query of the W3C SPARQL 1.1 query suite (files as
published, in tests/data/w3c-sparql11/data-sparql11) and our own queries (blank nodes, lists, paths,
aggregates, OPTIONAL / MINUS / EXISTS, sub-queries), the query's default data is spread over three
named graphs with deliberate overlaps (three triples in four are held by two or three graphs), then

  (a) the rewritten query runs with ``default_graph=[g1, g2, g3]`` (the engine merges them as a bag),
  (b) the original query runs on a store whose default graph is the set union,

and the answers must be equal: solutions as multisets (blank nodes compared as "some blank node";
helper ``__kgt`` variables dropped), booleans equal, graphs isomorphic.
"""

from __future__ import annotations

import doctest
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from kg_twin.errors import InputError
from kg_twin.sparql import union, union_triples
from kg_twin.sparql.lexer import tokenize
from kg_twin.sparql.union import set_default_graph

SUITE = Path(__file__).resolve().parents[1] / "data" / "w3c-sparql11" / "data-sparql11"
GRAPHS = [ox.NamedNode(f"urn:kgt:test:g{i}") for i in (1, 2, 3)]
SPREAD = [(0,), (0, 1), (1, 2), (0, 1, 2)]  # triple i goes to the graphs SPREAD[i % 4]
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
FORMS = ("SELECT", "ASK", "CONSTRUCT")

# ----------------------------------------------------------------------------- datasets
EX_DATA = """
@prefix : <http://ex/> .
:a :p :b, :c ; :q 1 ; :name "A" ; :r :a .
:b :p :c ; :q 2 ; :r [ :s :c ] ; a :Thing .
:c :q 2 ; :p :a ; :list ( :a :b 3 ) ; a :Thing .
:d :p [ :p :a ] ; :q 3 ; :name "D"@en .
[] :p :d ; :q 4 .
_:x :s _:x .
"""
EX_NAMED = {"http://ex/ng": "@prefix : <http://ex/> . :a :p :z . :z :q 9 ."}


def _triples(data: bytes, fmt: ox.RdfFormat, base: str | None) -> list[ox.Triple]:
    return [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, fmt, base_iri=base)]


def _stores(default: list[ox.Triple], named: dict[str, list[ox.Triple]]) -> tuple[ox.Store, ox.Store]:
    """(bag store: the default triples spread over GRAPHS, set store: them in its default graph)."""
    bag, ref = ox.Store(), ox.Store()
    for store in (bag, ref):
        for name, triples in named.items():
            store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name)) for t in triples)
    unique = list(dict.fromkeys(default))
    for i, t in enumerate(unique):
        for g in SPREAD[i % len(SPREAD)]:
            bag.add(ox.Quad(t.subject, t.predicate, t.object, GRAPHS[g]))
    ref.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in unique)
    return bag, ref


def _answer(result: Any) -> Any:
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables if not v.value.startswith("__kgt")]
        rows = Counter()
        for sol in result:
            row = tuple((n, "_:" if isinstance(sol[n], ox.BlankNode) else str(sol[n])) for n in names if sol[n] is not None)
            rows[row] += 1
        return rows
    g = Graph()
    g.parse(data=ox.serialize(list(result), format=ox.RdfFormat.N_TRIPLES) or b"", format="nt")
    return g


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Graph):
        return isinstance(b, Graph) and isomorphic(a, b)
    return a == b


def check(query: str, bag: ox.Store, ref: ox.Store, named: list[str], base: str | None) -> tuple[bool, bool]:
    """(rewritten over the bag == original over the set, original over the bag == original over the set)."""
    expected = _answer(ref.query(query, base_iri=base))
    nn = [ox.NamedNode(n) for n in named]
    rewritten = set_default_graph(query)
    got = _answer(bag.query(rewritten, base_iri=base, default_graph=GRAPHS, named_graphs=nn))
    plain = _answer(bag.query(query, base_iri=base, default_graph=GRAPHS, named_graphs=nn))
    return _same(got, expected), _same(plain, expected)


# ----------------------------------------------------------------------------- the W3C corpus
def _manifest_data() -> dict[Path, tuple[list[Path], list[Path]]]:
    """query file -> (default data files, named graph files), from every manifest's qt:query entries."""
    out: dict[Path, tuple[list[Path], list[Path]]] = {}
    for manifest in sorted(SUITE.glob("*/manifest.ttl")):
        store = ox.Store()
        store.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=manifest.resolve().as_uri())
        rows = store.query(
            f"SELECT ?q ?d ?n WHERE {{ ?a <{QT}query> ?q OPTIONAL {{ ?a <{QT}data> ?d }} OPTIONAL {{ ?a <{QT}graphData> ?n }} }}"
        )
        for row in rows:
            q = Path(row["q"].value.removeprefix("file://"))
            data, named = out.setdefault(q, ([], []))
            for key, bucket in (("d", data), ("n", named)):
                term = row[key]
                if isinstance(term, ox.NamedNode):
                    p = Path(term.value.removeprefix("file://"))
                    if p not in bucket:
                        bucket.append(p)
    return out


def _form(text: str) -> str | None:
    """SELECT / ASK / CONSTRUCT / DESCRIBE: the keyword after the prologue (None for updates, bad text)."""
    try:
        toks = tokenize(text, raw=True)
    except InputError:
        return None
    i = 0
    while i < len(toks) and toks[i].upper in ("BASE", "PREFIX"):
        i += 2 if toks[i].upper == "BASE" else 3
    return toks[i].upper if i < len(toks) and toks[i].upper in (*FORMS, "DESCRIBE") else None


QUERIES = sorted(p for p in SUITE.glob("*/*.rq") if _form(p.read_text(encoding="utf-8", errors="replace")) in FORMS)
_DATA = _manifest_data() if SUITE.exists() else {}


def _load(path: Path) -> list[ox.Triple]:
    fmt = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.TURTLE
    return _triples(path.read_bytes(), fmt, path.resolve().as_uri())


def _uses_network(text: str) -> bool:
    return any(t.kind == "NAME" and t.upper == "SERVICE" for t in tokenize(text, raw=True))


def test_corpus_is_there():
    assert len(QUERIES) > 300, f"expected the W3C SPARQL 1.1 query files under {SUITE}"


def _dataset_clause(text: str, base: str) -> list[str]:
    """IRIs named by FROM / FROM NAMED (resolved against the query's base)."""
    toks = tokenize(text, raw=True)
    out = []
    for i, t in enumerate(toks):
        if t.upper == "FROM":
            j = i + 2 if i + 1 < len(toks) and toks[i + 1].upper == "NAMED" else i + 1
            out.append(urljoin(base, toks[j].text[1:-1]))
    return out


REJECTED = (SyntaxError, OSError, RuntimeError, ValueError)


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_w3c_query_set_union(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if _uses_network(text):
        pytest.skip("SERVICE to a remote endpoint: no network in tests")
    base = path.resolve().as_uri()
    data, named = _DATA.get(path, ([], []))
    default = [t for f in data for t in _load(f)] if data else _triples(EX_DATA.encode(), ox.RdfFormat.TURTLE, None)
    named_triples = {f.resolve().as_uri(): _load(f) for f in named}
    from_graphs = _dataset_clause(text, base)
    for iri in from_graphs:  # the query names its dataset: its files become graphs of both stores
        file = Path(iri.removeprefix("file://"))
        named_triples[iri] = _load(file) if file.is_file() else []
    bag, ref = _stores(default, named_triples)
    try:
        ref.query(text, base_iri=base)
    except REJECTED:  # a negative syntax test, an unsupported function: the rewrite must not make it run
        try:
            rewritten = set_default_graph(text)
        except InputError:
            return
        with pytest.raises(REJECTED):
            bag.query(rewritten, base_iri=base, default_graph=GRAPHS)
        return
    if from_graphs:  # FROM fixes the default graph (a set here): the rewrite must change nothing
        assert _same(_answer(bag.query(set_default_graph(text), base_iri=base)), _answer(ref.query(text, base_iri=base)))
        return
    exact, _ = check(text, bag, ref, list(named_triples), base)
    assert exact, f"rewritten query over the bag differs from the set answer:\n{set_default_graph(text)}"


# ----------------------------------------------------------------------------- our own cases
P = "PREFIX : <http://ex/> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
OWN = [
    "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
    "SELECT * { ?s :p ?o }",
    "SELECT ?s { ?s :p [] }",
    "SELECT ?s (COUNT(?o) AS ?n) { ?s :p ?o } GROUP BY ?s",
    "SELECT * { _:x :p ?o . _:x :q ?v }",
    "SELECT * { _:x :p ?o . FILTER(?o != :zz) _:x :q ?v }",
    "SELECT (COUNT(*) AS ?n) { _:b ?p _:b }",
    "SELECT (COUNT(*) AS ?n) { [] a :Thing }",
    "SELECT * { [ :p [ :p ?x ] ] }",
    "SELECT * { ?s :p/:p ?o }",
    "SELECT * { ?s :p/:q ?o FILTER(?o > 1) }",
    "SELECT * { ?s ^:p ?o }",
    "SELECT * { ?s ^(:p/:p) ?o }",
    "SELECT * { ?s (:p|:r) ?o }",
    "SELECT * { ?s (:p|:r)/:q ?o }",
    "SELECT * { ?s :p* ?o }",
    "SELECT * { ?s :p+/:q ?o }",
    "SELECT * { ?s :p? ?o }",
    "SELECT * { ?s !(:p|:q) ?o }",
    "SELECT * { ?s !^:p ?o }",
    "SELECT * { ?s !(:p|^:q) ?o }",
    "SELECT * { ?s !a ?o }",
    "SELECT * { ?s :p/!(:q) ?o }",
    "SELECT * { ?s :list ( ?x ?y 3 ) }",
    "SELECT * { ?s :list/rdf:rest*/rdf:first ?m }",
    "SELECT * { ?s :p ?o OPTIONAL { ?o :q ?v } }",
    "SELECT * { ?s :p ?o OPTIONAL { ?o :q ?v FILTER(?v > 1) } }",
    "SELECT * { ?s :p ?o MINUS { ?o :q 2 } }",
    "SELECT * { ?s :p ?o FILTER EXISTS { ?o :p ?x } }",
    "SELECT * { ?s :p ?o FILTER NOT EXISTS { ?o :q ?x } }",
    "SELECT ?s (COUNT(*) AS ?n) { ?s :p ?o FILTER EXISTS { SELECT ?o { ?o :q ?x } LIMIT 1 } } GROUP BY ?s",
    "SELECT * { { SELECT ?s (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?s } ?s :q ?q }",
    "SELECT * { ?s :p ?o . { SELECT ?o (MAX(?q) AS ?m) { ?o :q ?q } GROUP BY ?o } }",
    "SELECT * { { SELECT DISTINCT ?s { ?s ?p ?o } } ?s :q ?q }",
    "SELECT (COUNT(*) AS ?n) { { SELECT DISTINCT ?s { ?s ?p ?o } LIMIT 100 } }",
    "SELECT (COUNT(*) AS ?n) { { SELECT ?s { ?s ?p ?o } } }",
    "SELECT * { { ?s :p ?o } UNION { ?s :q ?o } }",
    "SELECT ?s (SUM(?q) AS ?t) { ?s :p ?o . ?o :q ?q } GROUP BY ?s HAVING (SUM(?q) > 1)",
    "SELECT ?s (AVG(?q) AS ?a) (MIN(?q) AS ?lo) { ?s :p ?o . ?o :q ?q } GROUP BY ?s",
    "SELECT * { ?s :q ?q BIND(?q * 2 AS ?d) ?s :p ?o }",
    "SELECT * { VALUES ?s { :a :b } ?s :p ?o }",
    "SELECT * { ?s :p ?o } VALUES ?o { :b :c }",
    "ASK { ?s :p ?o } OFFSET 9",
    "ASK { ?s :p ?o } OFFSET 30",
    "ASK { _:s :p _:o }",
    "SELECT DISTINCT ?s { ?s :p ?o }",
    "SELECT REDUCED ?s { ?s :p ?o } ORDER BY ?s",
    "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s ?p ?o }",
    "SELECT * { ?s :p ?o } ORDER BY ?s ?o LIMIT 3",
    "SELECT DISTINCT ?s { ?s :p ?o } ORDER BY ?s LIMIT 2",
    "SELECT (COUNT(*) AS ?n) { ?s :p ?o FILTER(?o != :c) ?o :q ?q }",
    "SELECT * { ?s :p ?o . ?o :p ?s }",
    "SELECT * { ?s :name ?n ; :q ?q }",
    "SELECT ?s (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?s",
    "SELECT * { ?s :p ?o GRAPH <http://ex/ng> { ?o :q ?v } }",
    "SELECT (COUNT(*) AS ?n) { ?s :p ?o . ?o :p ?x . ?x :p ?y }",
    "SELECT ?x (COUNT(*) AS ?n) { ?x ?p ?o OPTIONAL { ?o ?p2 ?o2 MINUS { ?o2 a :Thing } } } GROUP BY ?x",
    "SELECT (EXISTS { ?s :q 2 } AS ?e) (COUNT(*) AS ?n) { ?s :p ?o } GROUP BY ?s",
    "SELECT * { ?s :p ?o BIND(EXISTS { ?o :p [] } AS ?e) }",
    "CONSTRUCT { ?s :pp [ :v ?o ] } WHERE { ?s :p ?o }",
    "CONSTRUCT { ?s :pp ?o } WHERE { ?s :p ?o }",
    "CONSTRUCT WHERE { ?s :p _:b . _:b :p ?o }",
    "CONSTRUCT WHERE { ?s :p ?o }",
    "CONSTRUCT { ?s :n ?n } WHERE { { SELECT ?s (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?s } }",
    "SELECT ?s (COUNT(?b) AS ?n) { ?s :p ?o BIND(BNODE() AS ?b) } GROUP BY ?s",
    "SELECT (COUNT(DISTINCT ?b) AS ?n) { ?s :p ?o BIND(BNODE() AS ?b) }",
    "SELECT * { ?s :p ?o OPTIONAL { ?o :p ?x OPTIONAL { ?x :q ?y } } }",
    "SELECT * WHERE { ?s ?p ?o FILTER(isBlank(?s)) }",
    "SELECT ?s WHERE { ?s :p ?o . FILTER NOT EXISTS { ?s :r ?x } . ?s :q ?q . }",
]


@pytest.fixture(scope="module")
def ex_stores() -> tuple[ox.Store, ox.Store]:
    default = _triples(EX_DATA.encode(), ox.RdfFormat.TURTLE, None)
    named = {n: _triples(d.encode(), ox.RdfFormat.TURTLE, None) for n, d in EX_NAMED.items()}
    return _stores(default, named)


@pytest.mark.parametrize("query", OWN)
def test_own_query_set_union(query: str, ex_stores: tuple[ox.Store, ox.Store]) -> None:
    bag, ref = ex_stores
    exact, _ = check(P + query, bag, ref, list(EX_NAMED), None)
    assert exact, set_default_graph(P + query)


def test_the_bag_is_visible_without_the_rewrite(ex_stores: tuple[ox.Store, ox.Store]) -> None:
    """Without the rewrite most of our queries give other answers: the property test can fail."""
    bag, ref = ex_stores
    differ = [q for q in OWN if not check(P + q, bag, ref, list(EX_NAMED), None)[1]]
    assert len(differ) >= len(OWN) // 2, differ


# ----------------------------------------------------------------------------- updates
UPDATES = [
    "INSERT { GRAPH <urn:out> { ?s :n [] } } {using} WHERE { ?s :p ?o }",
    "INSERT { GRAPH <urn:out> { ?s :n ( ?o ) } } {using} WHERE { ?s :p ?o }",
    "INSERT { GRAPH <urn:out> { ?s :cnt ?n } } {using} WHERE { SELECT ?s (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?s }",
    "INSERT { GRAPH <urn:out> { ?b :of ?s } } {using} WHERE { ?s :p ?o BIND(BNODE() AS ?b) }",
    "INSERT { GRAPH <urn:out> { ?s :n ?o } } {using} WHERE { ?s :p ?o }",
]


@pytest.mark.parametrize("update", UPDATES)
def test_update_where_set_union(update: str) -> None:
    default = _triples(EX_DATA.encode(), ox.RdfFormat.TURTLE, None)
    bag, ref = _stores(default, {})
    ref.update(f"ADD DEFAULT TO <urn:set>")
    bag.update(set_default_graph(P + update.replace("{using}", " ".join(f"USING <{g.value}>" for g in GRAPHS))))
    ref.update(P + update.replace("{using}", "USING <urn:set>"))
    out = ox.NamedNode("urn:out")
    got, want = (_answer(s.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <urn:out> { ?s ?p ?o } }")) for s in (bag, ref))
    assert len(want) > 0 and isomorphic(got, want), (len(got), len(want), out)


# ----------------------------------------------------------------------------- the text itself
@pytest.mark.parametrize("module", [union, union_triples])
def test_doctests(module: Any) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "text",
    [
        "SELECT DISTINCT ?s { ?s ?p ?o }",
        "ASK { ?s ?p ?o OPTIONAL { ?o ?q ?r } }",
        "SELECT * { GRAPH ?g { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://x/sparql> { ?s ?p ?o } }",
        "DELETE WHERE { ?s ?p ?o }",
        "INSERT DATA { <a> <b> <c> }",
        "CLEAR DEFAULT ; DROP GRAPH <g>",
        "PREFIX e: <http://e/> # a comment { ?s\nDESCRIBE e:x",
    ],
)
def test_nothing_to_wrap_leaves_the_text_alone(text: str) -> None:
    assert set_default_graph(text) == text


def test_helpers_do_not_collide_with_the_query_variables() -> None:
    out = set_default_graph("SELECT * { ?__kgt_1 <p> [] }")
    assert "?__kgt_1 <p> ?__kgt_2" in out and "SELECT ?__kgt_1 WHERE" in out


def test_prologue_and_prefixed_names_are_kept() -> None:
    text = "BASE <http://b/>\nPREFIX e: <http://e/>\nSELECT (COUNT(*) AS ?n) { ?s e:p <rel> . } # end"
    out = set_default_graph(text)
    assert out.startswith("BASE <http://b/>\nPREFIX e: <http://e/>\n") and out.endswith("# end")
    assert "{ SELECT DISTINCT * WHERE { ?s e:p <rel> . } }" in out


def test_syntax_errors_say_where() -> None:
    with pytest.raises(InputError) as e:
        set_default_graph("SELECT (COUNT(*) AS ?n) {\n  ?s <p> ?o ) }")
    assert e.value.code == "SPARQL_SYNTAX" and e.value.where["line"] == 2


@pytest.mark.slow
def test_w3c_corpus_tells_the_bag_from_the_set() -> None:
    """Over the bag, at least 100 W3C queries answer differently without the rewrite (353 are compared)."""
    differ = 0
    for path in QUERIES:
        text = path.read_text(encoding="utf-8")
        base = path.resolve().as_uri()
        data, named = _DATA.get(path, ([], []))
        if not data or _uses_network(text) or _dataset_clause(text, base):
            continue
        named_triples = {f.resolve().as_uri(): _load(f) for f in named}
        bag, ref = _stores([t for f in data for t in _load(f)], named_triples)
        try:
            differ += not check(text, bag, ref, list(named_triples), base)[1]
        except REJECTED:
            continue
    assert differ >= 100
