"""What kg-twin knows about external SPARQL engines: how to read their answers the same way.

A :class:`~kg_twin.store.remote.RemoteStore` reads every answer through this module, so the rest of
kg-twin sees one dialect whatever the engine (docs/engines.md lists the differences):

* SPARQL JSON results are read here, not by a strict parser: Virtuoso writes SPARQL 1.0's
  ``typed-literal`` and blank nodes as ``nodeID://b10000`` (its N-Triples say ``_:b10000``: the same
  node gets the same label both ways);
* Virtuoso stores ``geo:wktLiteral`` values as ``virtrdf:Geometry``: read back as ``geo:wktLiteral``;
* Virtuoso's SPARQL results write booleans as ``"1"`` / ``"0"``: read back as ``true`` / ``false``;
* the engine's own system graphs are not the twin's data and are left out of graph lists.

>>> kind, variables, rows = parse_json_results(
...     b'{"head": {"vars": ["s", "o"]}, "results": {"bindings": [{"s": {"type": "bnode", "value": "nodeID://b10000"},'
...     b' "o": {"type": "typed-literal", "datatype": "http://www.openlinksw.com/schemas/virtrdf#Geometry", "value": "POINT(1 2)"}}]}}')
>>> kind, variables, [str(t) for t in rows[0]]
('bindings', ['s', 'o'], ['_:b10000', '"POINT(1 2)"^^<http://www.opengis.net/ont/geosparql#wktLiteral>'])
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator

import pyoxigraph as ox

from kg_twin.errors import UpstreamError
from kg_twin.sparql.lexer import Token, tokenize

WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
VIRTUOSO_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"

# graphs an engine keeps for itself (Virtuoso: its quad-map schema, LDP, the URIQA default)
SYSTEM_GRAPH_PREFIXES: dict[str, tuple[str, ...]] = {
    "virtuoso": ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#", "http://localuriqaserver/"),
}
_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def engine_of(server_header: str) -> str:
    """The engine family from an HTTP ``Server`` header ('' when unknown).

    >>> engine_of("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu"), engine_of("Oxigraph/0.5.2")
    ('virtuoso', 'oxigraph')
    """
    s = server_header.lower()
    for name in ("virtuoso", "oxigraph", "fuseki", "graphdb", "blazegraph"):
        if name in s:
            return name
    return ""


def bnode_label(value: str) -> str:
    """A valid blank node label for an engine's blank node id (``nodeID://b1`` -> ``b1``).

    >>> bnode_label("nodeID://b10000"), bnode_label("b0"), len(bnode_label("weird id!"))
    ('b10000', 'b0', 17)
    """
    if value.startswith("nodeID://"):
        value = value[len("nodeID://"):]
    if _LABEL.match(value) and not value.endswith("."):
        return value
    return "x" + hashlib.sha1(value.encode("utf-8")).hexdigest()[:16]


def literal(value: str, *, language: str | None = None, datatype: str | None = None) -> ox.Literal:
    """A result literal as kg-twin writes it (Virtuoso's results say ``"1"^^xsd:boolean`` for ``true``).

    >>> str(literal("1", datatype=XSD_BOOLEAN))
    '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    """
    if language:
        return ox.Literal(value, language=language)
    if datatype == XSD_BOOLEAN and value in ("1", "0"):
        value = "true" if value == "1" else "false"
    if datatype and datatype != XSD_STRING:
        return ox.Literal(value, datatype=ox.NamedNode(WKT if datatype == VIRTUOSO_GEOMETRY else datatype))
    return ox.Literal(value)


def json_term(d: dict[str, Any]) -> Any:
    kind = d.get("type")
    value = d.get("value", "")
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(bnode_label(value))
    if kind in ("literal", "typed-literal"):
        return literal(value, language=d.get("xml:lang"), datatype=d.get("datatype"))
    if kind == "triple":
        v = value
        return ox.Triple(json_term(v["subject"]), json_term(v["predicate"]), json_term(v["object"]))
    raise UpstreamError("UPSTREAM_RESULTS", f"the engine answered a term of unknown type {kind!r}")


def parse_json_results(body: bytes) -> tuple[str, list[str], list[list[Any]]] | tuple[str, bool, None]:
    """SPARQL JSON results -> ``("bindings", variables, rows)`` (rows of pyoxigraph terms, None when
    unbound) or ``("boolean", value, None)``."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise UpstreamError("UPSTREAM_RESULTS", f"the engine's SPARQL JSON results do not parse: {e}") from None
    if "boolean" in doc:
        return "boolean", bool(doc["boolean"]), None
    variables = list(doc.get("head", {}).get("vars", []))
    rows = []
    for b in doc.get("results", {}).get("bindings", []):
        rows.append([json_term(b[v]) if v in b else None for v in variables])
    return "bindings", variables, rows


def _map_term(t: Any) -> Any:
    if isinstance(t, ox.Literal) and not t.language and t.datatype.value == VIRTUOSO_GEOMETRY:
        return ox.Literal(t.value, datatype=ox.NamedNode(WKT))
    return t


def read_ntriples(source: bytes | IO[bytes]) -> Iterator[ox.Triple]:
    """Triples of an engine's N-Triples answer, terms read back as kg-twin writes them."""
    for t in ox.parse(source, ox.RdfFormat.N_TRIPLES):
        o = t.object
        if isinstance(o, ox.Literal) and o.datatype.value == VIRTUOSO_GEOMETRY:
            t = ox.Triple(t.subject, t.predicate, _map_term(o))
        yield t


def is_system_graph(engine: str, graph: str) -> bool:
    return graph.startswith(SYSTEM_GRAPH_PREFIXES.get(engine, ()))


def ntriples_chunks(triples: Iterable[ox.Triple], size: int = 20_000) -> Iterator[bytes]:
    """N-Triples text in chunks (an upload body streamed without holding the file in memory)."""
    batch: list[ox.Triple] = []
    for t in triples:
        batch.append(t)
        if len(batch) >= size:
            yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""
            batch = []
    if batch:
        yield ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b""


# --------------------------------------------------------------------------- request text
def _top_level(tokens: list[Token]) -> Iterator[tuple[int, Token]]:
    depth = 0
    for i, t in enumerate(tokens):
        if t.kind == "PUNCT" and t.text in "{([":
            depth += 1
        elif t.kind == "PUNCT" and t.text in "})]":
            depth -= 1
        elif depth == 0:
            yield i, t


def without_dataset_clauses(sparql: str) -> str:
    """The query without its ``FROM`` / ``FROM NAMED`` clauses.

    kg-twin sends the dataset a request may see as protocol parameters (``default-graph-uri``,
    ``named-graph-uri``), which the protocol says override the query's own clauses; Virtuoso adds the
    query's ``FROM`` graphs to them instead. The clauses were already read (and confined) by kg-twin.

    >>> without_dataset_clauses("SELECT * FROM <http://g1> FROM NAMED <http://g2> WHERE { ?s ?p 'FROM <x>' }")
    "SELECT *   WHERE { ?s ?p 'FROM <x>' }"
    """
    tokens = tokenize(sparql, raw=True)
    cut: list[tuple[int, int]] = []
    top = list(_top_level(tokens))
    for i, t in top:
        if t.kind == "NAME" and t.text.upper() == "FROM":
            j = i + 1
            if j < len(tokens) and tokens[j].kind == "NAME" and tokens[j].text.upper() == "NAMED":
                j += 1
            if j < len(tokens) and tokens[j].kind in ("IRI", "PNAME"):
                cut.append((t.start, tokens[j].end))
    for start, end in reversed(cut):
        sparql = sparql[:start] + sparql[end:]
    return sparql


@dataclass
class GraphOp:
    """A graph management operation of an update (``DROP``, ``CLEAR``, ``CREATE``, ``MOVE``, ``COPY``, ``ADD``)."""

    verb: str
    silent: bool
    graphs: list[str]  # IRIs named by the operation (MOVE/COPY/ADD: source first); DEFAULT -> ""
    verb_end: int  # where ``SILENT`` goes in the text


def graph_ops(sparql: str) -> list[GraphOp]:
    """The graph management operations of an update whose graphs are written as full IRIs.

    >>> [(o.verb, o.silent, o.graphs) for o in graph_ops("DROP GRAPH <http://a> ; MOVE SILENT DEFAULT TO <http://b>")]
    [('DROP', False, ['http://a']), ('MOVE', True, ['', 'http://b'])]
    """
    tokens = tokenize(sparql, raw=True)
    ops: list[GraphOp] = []
    for i, t in _top_level(tokens):
        verb = t.text.upper()
        if t.kind != "NAME" or verb not in ("DROP", "CLEAR", "CREATE", "MOVE", "COPY", "ADD"):
            continue
        j, silent = i + 1, False
        if j < len(tokens) and tokens[j].text.upper() == "SILENT":
            silent, j = True, j + 1
        graphs: list[str] = []
        while j < len(tokens) and not (tokens[j].kind == "PUNCT" and tokens[j].text == ";"):
            tok = tokens[j]
            if tok.kind == "IRI":
                graphs.append(tok.text[1:-1])
            elif tok.kind == "NAME" and tok.text.upper() == "DEFAULT":
                graphs.append("")
            elif tok.kind == "NAME" and tok.text.upper() in ("NAMED", "ALL"):
                graphs.append("*")
            elif tok.kind == "PNAME":
                graphs.append("?")  # a prefixed name: not adapted
            j += 1
        ops.append(GraphOp(verb, silent, graphs, t.end))
    return ops


def empty_graph_outside(sparql: str, named: set[str], empty: str) -> str:
    """``GRAPH <g>`` for a ``g`` outside the request's named graphs, written as ``GRAPH <empty>`` (a
    named graph of the request that holds nothing): the same answers, and Virtuoso answers
    ``COUNT(*)`` over a graph outside the dataset with 1 instead of 0.

    >>> empty_graph_outside("SELECT * { GRAPH <http://a> { ?s ?p ?o } GRAPH <http://b> { ?s ?p ?o } }", {"http://a"}, "urn:e")
    'SELECT * { GRAPH <http://a> { ?s ?p ?o } GRAPH <urn:e> { ?s ?p ?o } }'
    """
    tokens = tokenize(sparql, raw=True)
    cut: list[tuple[int, int]] = []
    for prev, tok in zip(tokens, tokens[1:]):
        if prev.kind == "NAME" and prev.text.upper() == "GRAPH" and tok.kind == "IRI":
            iri = tok.text[1:-1]
            if ":" in iri and iri not in named:  # absolute IRIs only (relative ones resolve against BASE)
                cut.append((tok.start, tok.end))
    for start, end in reversed(cut):
        sparql = sparql[:start] + f"<{empty}>" + sparql[end:]
    return sparql
