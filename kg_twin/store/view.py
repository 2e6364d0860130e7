"""Read-only SPARQL view over some graphs of a pyoxigraph store, for the SHACL engine.

The validation engine evaluates shapes as SPARQL queries over *the data graphs only*
(their union is the default graph of every query) and reads class hierarchies from
the data graphs plus extra *closure* graphs (ontologies). This module is the only
place the engine touches pyoxigraph: it hands back pyoxigraph terms (hashable,
cheap) and converts them to and from rdflib terms for the report.

>>> v = ShaclView.from_ntriples(b'<http://x/a> <http://x/p> "1" .\\n')
>>> [(str(s), str(o)) for s, o in v.rows("SELECT ?s ?o WHERE { ?s ?p ?o }")]
[('<http://x/a>', '"1"')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import pyoxigraph as ox
import rdflib

from kg_twin.errors import InputError, UnsupportedMediaType
from kg_twin.formats import RDF_FORMATS, rdf_format_from_name, rdf_format_from_path
from kg_twin.store.execute import OX_RDF

NamedNode = ox.NamedNode
BlankNode = ox.BlankNode
Literal = ox.Literal
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_SUBCLASS_Q = "SELECT DISTINCT ?s ?o WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?o }"
_TYPES_Q = (
    "SELECT DISTINCT ?s ?t WHERE { ?s <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ?t . FILTER(isIRI(?s) && isIRI(?t)"
    " && ?t NOT IN (<http://www.w3.org/2002/07/owl#Class>, <http://www.w3.org/2000/01/rdf-schema#Class>,"
    " <http://www.w3.org/ns/shacl#NodeShape>, <http://www.w3.org/ns/shacl#PropertyShape>,"
    " <http://www.w3.org/2002/07/owl#ObjectProperty>, <http://www.w3.org/2002/07/owl#DatatypeProperty>,"
    " <http://www.w3.org/1999/02/22-rdf-syntax-ns#Property>, <http://www.w3.org/2002/07/owl#AnnotationProperty>)) }"
)
_UNITS_Q = 'SELECT DISTINCT ?u WHERE { ?x ?p ?u . FILTER(isIRI(?u) && STRSTARTS(STR(?u), "http://qudt.org/vocab/unit/")) }'
QUDT_UNIT_CLASS = "http://qudt.org/schema/qudt/Unit"
_CLOSURE_CACHE: dict[tuple, tuple] = {}

DATA_GRAPH = "urn:x-kg-twin:validation:data"
CLOSURE_GRAPH = "urn:x-kg-twin:validation:closure"
SHAPES_GRAPH = "urn:x-kg-twin:validation:shapes"

class ShaclQueryError(InputError):
    """The store refused a query built from the shapes (bad regex, bad SPARQL in sh:select)."""


def rdf_format_of(path: Path | str, fmt: str | None = None) -> Any:
    """pyoxigraph format for a format name or a file name (:mod:`kg_twin.formats`; a ``.json``
    file read as RDF is JSON-LD)."""
    try:
        if fmt:
            f = rdf_format_from_name(fmt)
        elif Path(str(path)).suffix.lower() == ".json":
            f = RDF_FORMATS["jsonld"]
        else:
            f = rdf_format_from_path(str(path))
    except UnsupportedMediaType as e:
        raise InputError("BAD_FORMAT", e.message, hint=e.hint) from None
    return OX_RDF[f.name]


# --- term conversion -------------------------------------------------------------

def iri_value(t: Any) -> str | None:
    """The IRI of a store IRI term, else None (cheap: no rdflib term is built)."""
    return t.value if isinstance(t, ox.NamedNode) else None


def to_rdflib(t: Any) -> rdflib.term.Node | None:
    if t is None:
        return None
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if isinstance(t, ox.Literal):
        if t.language:
            return rdflib.Literal(t.value, lang=t.language)
        dt = t.datatype.value
        if dt == XSD_STRING:
            return rdflib.Literal(t.value)
        return rdflib.Literal(t.value, datatype=rdflib.URIRef(dt), normalize=False)
    raise TypeError(f"unsupported term {t!r}")


def from_rdflib(t: rdflib.term.Node) -> Any:
    if isinstance(t, rdflib.URIRef):
        return ox.NamedNode(str(t))
    if isinstance(t, rdflib.BNode):
        return ox.BlankNode(_bnode_id(str(t)))
    if isinstance(t, rdflib.Literal):
        if t.language:
            return ox.Literal(str(t), language=t.language)
        if t.datatype is not None:
            return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype)))
        return ox.Literal(str(t))
    raise TypeError(f"unsupported term {t!r}")


def _bnode_id(label: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in label) or "b"


def is_iri(t: Any) -> bool:
    return isinstance(t, ox.NamedNode)


def is_bnode(t: Any) -> bool:
    return isinstance(t, ox.BlankNode)


def is_literal(t: Any) -> bool:
    return isinstance(t, ox.Literal)


def sparql_term(t: Any) -> str:
    """SPARQL text of an IRI or literal (blank nodes cannot be named in a query)."""
    if isinstance(t, ox.BlankNode):
        raise InputError(
            "SHACL_BNODE_CONSTANT",
            "a blank node cannot be used as a query constant (sh:targetNode / sh:hasValue / sh:in on a blank node)",
            hint="give the node an IRI",
        )
    return str(t)


class ShaclView:
    """The data graphs (and closure graphs) a validation run reads.

    ``data_graphs``: IRIs whose union is the data graph; ``closure_graphs``: graphs
    that only contribute ``rdfs:subClassOf`` for class targets and ``sh:class``.
    """

    def __init__(self, store: Any, data_graphs: Iterable[str], closure_graphs: Iterable[str] = ()) -> None:
        self.store = store
        self.data_graphs = [ox.NamedNode(g) for g in data_graphs]
        self.closure_graphs = [ox.NamedNode(g) for g in closure_graphs]
        self.queries = 0
        # canonical literal (as the store gives it back) -> the literal as written, for inputs we
        # copied from rdflib: oxigraph stores typed literals by value ("4.0"^^xsd:decimal -> "4")
        self.originals: dict = {}
        self.stored: dict = {}  # the reverse: literal as written -> the store's form (for query constants)
        # store forms that stand for several written literals ("1"^^xsd:byte and "01"^^xsd:integer)
        self.ambiguous: set = set()
        self.closure_pairs: list[tuple] = []
        self.closure_types: list[tuple] = []  # (individual, class) stated by closure files
        self.private = False  # True when the store holds only this validation's graphs
        self.shapes_graph: str | None = None

    # constructors ---------------------------------------------------------------
    @classmethod
    def empty(cls) -> "ShaclView":
        v = cls(ox.Store(), [DATA_GRAPH], [CLOSURE_GRAPH])
        v.private = True
        return v

    @classmethod
    def from_ntriples(cls, data: bytes) -> "ShaclView":
        v = cls.empty()
        v.store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(DATA_GRAPH))
        return v

    @classmethod
    def from_rdflib(cls, graph: rdflib.Graph) -> "ShaclView":
        """Copy an rdflib graph keeping its blank node labels (so reports name the same nodes)."""
        v = cls.empty()
        v.add_rdflib(graph, DATA_GRAPH)
        return v

    @classmethod
    def from_oxigraph(cls, store: Any, data_graphs: Iterable[str], closure_graphs: Iterable[str] = ()) -> "ShaclView":
        return cls(store, data_graphs, closure_graphs)

    def add_rdflib(self, graph: rdflib.Graph, target: str) -> None:
        g = ox.NamedNode(target)
        self.store.extend(ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o), g) for s, p, o in graph)
        self.remember(from_rdflib(o) for o in graph.objects() if isinstance(o, rdflib.Literal))

    def remember(self, literals: Iterable[Any]) -> None:
        """Keep the written form of typed literals the store would canonicalize."""
        lits = list(dict.fromkeys(x for x in literals if isinstance(x, ox.Literal) and not x.language and x.datatype.value != XSD_STRING))
        if not lits:
            return
        tmp = ox.Store()
        p = ox.NamedNode("urn:x-kg-twin:p")
        tmp.extend(ox.Quad(ox.NamedNode(f"urn:x-kg-twin:l{i}"), p, lit) for i, lit in enumerate(lits))
        for q in tmp.quads_for_pattern(None, p, None):
            original = lits[int(q.subject.value[len("urn:x-kg-twin:l"):])]
            if q.object != original:
                known = self.originals.get(q.object)
                if known is not None and known != original:
                    self.ambiguous.add(q.object)
                self.originals[q.object] = original
                self.stored[original] = q.object

    def load_file(self, path: Path | str, target: str = DATA_GRAPH, fmt: str | None = None, *, base_iri: str | None = None) -> None:
        """Load an RDF file into ``target``; relative IRIs (and ``<>``) resolve against the file's
        ``file:`` IRI unless ``base_iri`` is given. Typed literals keep their written form."""
        path = Path(path)
        if not path.is_file():
            raise InputError("FILE_NOT_FOUND", f"no such file: {path}", where={"file": str(path)})
        base = base_iri or path.resolve().as_uri()
        try:
            self._load(ox.parse(path=str(path), format=rdf_format_of(path, fmt), base_iri=base), target)
        except SyntaxError as e:
            raise InputError("RDF_SYNTAX", f"{path.name}: {e}", where={"file": str(path)}, hint="fix the RDF syntax") from e

    def load_bytes(self, data: bytes, fmt: str, target: str = DATA_GRAPH, *, base_iri: str | None = None) -> None:
        """Load RDF text into ``target`` (``base_iri`` resolves relative IRIs)."""
        try:
            self._load(ox.parse(data, format=rdf_format_of("", fmt), base_iri=base_iri), target)
        except SyntaxError as e:
            raise InputError("RDF_SYNTAX", str(e), hint="fix the RDF syntax, or give the base IRI its relative IRIs need") from e

    def _load(self, quads: Iterable[Any], target: str) -> None:
        """Add parsed quads to ``target``, remembering the written form of the typed literals the
        store canonicalises (``"300"^^xsd:byte`` must stay ill-typed, ``"01"`` stay ``"01"``)."""
        g = ox.NamedNode(target)
        typed: dict = {}
        batch = []
        for q in quads:
            o = q.object
            if isinstance(o, ox.Literal) and not o.language and o.datatype.value != XSD_STRING:
                typed[o] = None
            batch.append(ox.Quad(q.subject, q.predicate, o, g))
            if len(batch) >= 100_000:
                self.store.extend(batch)
                batch = []
        self.store.extend(batch)
        self.remember(typed)

    # queries ------------------------------------------------------------------
    def rows(self, sparql: str, *, closure: bool = False) -> list[tuple]:
        """SELECT rows as tuples of pyoxigraph terms (None when unbound). Safe to call from several threads."""
        self.queries += 1
        graphs = self.data_graphs + (self.closure_graphs if closure else [])
        try:
            res = self.store.query(sparql, default_graph=graphs, named_graphs=[])
        except SyntaxError as e:
            raise ShaclQueryError("SHACL_QUERY_ERROR", f"the store rejected a validation query: {e}", hint="check sh:pattern regexes and IRIs in the shapes") from e
        n = len(res.variables)
        rows = [tuple(sol[i] for i in range(n)) for sol in res]
        if self.originals:
            o = self.originals
            rows = [tuple(o.get(t, t) if t is not None else None for t in r) for r in rows]
        return rows

    def add_closure_file(self, path: Path | str, fmt: str | None = None) -> None:
        """Use an ontology file's class hierarchy, without writing to the (project) store.

        Only its ``rdfs:subClassOf`` pairs are kept (cached per file and modification time).
        """
        path = Path(path)
        if not path.is_file():
            raise InputError("FILE_NOT_FOUND", f"no such ontology file: {path}", where={"file": str(path)})
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        cached = _CLOSURE_CACHE.get(key)
        if cached is None:
            tmp = ox.Store()
            try:
                tmp.bulk_load(path=str(path), format=rdf_format_of(path, fmt))
            except SyntaxError as e:
                raise InputError("RDF_SYNTAX", f"{path.name}: {e}", where={"file": str(path)}) from e
            pairs = [(r[0], r[1]) for r in tmp.query(_SUBCLASS_Q, use_default_graph_as_union=True)]
            types = [(r[0], r[1]) for r in tmp.query(_TYPES_Q, use_default_graph_as_union=True)]
            typed = {t[0] for t in types}
            # QUDT units the ontology names (e.g. Brick's sh:in unit lists) are qudt:Unit individuals;
            # the QUDT vocabulary itself is not shipped, so their type is stated here.
            units = [(r[0], ox.NamedNode(QUDT_UNIT_CLASS)) for r in tmp.query(_UNITS_Q, use_default_graph_as_union=True) if r[0] not in typed]
            cached = (pairs, types + units)
            _CLOSURE_CACHE[key] = cached
        self.closure_pairs.extend(cached[0])
        self.closure_types.extend(cached[1])

    def subclass_pairs(self) -> list[tuple]:
        """(subclass, superclass) pairs from the data graphs, the closure graphs and closure files."""
        return self.rows(_SUBCLASS_Q, closure=True) + self.closure_pairs

    def add_shapes_graph(self, graph: rdflib.Graph) -> str | None:
        """Put the shapes graph next to the data, for SHACL-SPARQL's ``$shapesGraph``; returns its name,
        or None when the view reads a shared store (nothing is ever written there)."""
        if not self.private:
            return None
        self.add_rdflib(graph, SHAPES_GRAPH)
        self.shapes_graph = SHAPES_GRAPH
        return SHAPES_GRAPH

    def run_prebound(self, sparql: str, *, prefixes: dict[str, str] | None = None, functions: dict | None = None) -> bool | tuple[list[str], list[tuple]]:
        """A SHACL-SPARQL query whose pre-bound variables are already substituted: ASK -> bool,
        SELECT -> (variables, rows). The shapes graph (if any) is the only named graph."""
        self.queries += 1
        named = [ox.NamedNode(self.shapes_graph)] if self.shapes_graph else []
        try:
            res = self.store.query(sparql, default_graph=self.data_graphs, named_graphs=named, prefixes=prefixes or None, custom_functions=functions or None)
        except SyntaxError as e:
            raise ShaclQueryError("SHACL_SPARQL_SYNTAX", f"SPARQL query of the shapes graph: {e}", hint="fix the sh:select / sh:ask query") from e
        if isinstance(res, ox.QueryBoolean):
            return bool(res)
        names = [v.value for v in res.variables]
        n = len(names)
        rows = [tuple(sol[i] for i in range(n)) for sol in res]
        if self.originals:
            o = self.originals
            rows = [tuple(o.get(t, t) if t is not None else None for t in r) for r in rows]
        return names, rows

    def size(self) -> int:
        """Number of triples in the data graphs."""
        return int(self.rows("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0][0].value)
