"""RDF file work that needs no store: format conversion, counting, scratch graphs.

Code outside :mod:`kg_twin.store` does not import pyoxigraph; when it needs to turn a Turtle
file into N-Triples (owlready2 only reads RDF/XML and N-Triples), count a file's triples or
run a CONSTRUCT over a few files, it uses these helpers.

>>> nt = convert(b"@prefix ex: <http://e/> . ex:a ex:p ex:b .", from_format="turtle", to_format="ntriples")
>>> nt
b'<http://e/a> <http://e/p> <http://e/b> .\\n'
>>> count_triples(nt, format="ntriples")
1
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

import pyoxigraph as ox

from kg_twin.errors import InputError
from kg_twin.formats import rdf_format_from_name
from kg_twin.store.bulk import rdf_syntax_error
from kg_twin.store.execute import OX_RDF

Source = bytes | str | Path


def _parse(source: Source, fmt: str) -> Iterator[ox.Triple]:
    f = rdf_format_from_name(fmt)
    if f.quads:
        raise InputError("QUADS_NOT_TRIPLES", f"{f.name} holds quads; convert a triple format", hint="use turtle / ntriples / rdfxml")
    kwargs: dict = {"format": OX_RDF[f.name]}
    if isinstance(source, bytes):
        kwargs["input"] = source
        name = "data"
    else:
        kwargs["path"] = str(source)
        name = str(source)
    try:
        yield from ox.parse(**kwargs)
    except SyntaxError as e:
        raise InputError("RDF_SYNTAX", f"invalid {f.name} data in {name}: {e}", hint=f"fix the {f.name} syntax", where={"file": name}) from None
    except OSError as e:
        raise InputError("RDF_READ_FAILED", f"could not read {name}: {e}", hint="check the path") from None


def convert(source: Source, *, from_format: str, to_format: str, drop_predicates: Iterable[str] = ()) -> bytes:
    """Re-serialize RDF (a path or bytes) in another triple format, optionally dropping predicates.

    >>> convert(b'<http://e/o> <http://www.w3.org/2002/07/owl#imports> <http://e/x> .',
    ...         from_format="nt", to_format="nt", drop_predicates=["http://www.w3.org/2002/07/owl#imports"])
    b''
    """
    drop = {ox.NamedNode(p) for p in drop_predicates}
    out_fmt = rdf_format_from_name(to_format)
    triples = (t for t in _parse(source, from_format) if t.predicate not in drop)
    buf = io.BytesIO()
    ox.serialize(triples, buf, format=OX_RDF[out_fmt.name])
    return buf.getvalue()


def count_triples(source: Source, *, format: str) -> int:
    """Number of triples in an RDF file or byte string (duplicates counted once).

    >>> count_triples(b'<http://e/a> <http://e/p> "1" . <http://e/a> <http://e/p> "1" .', format="turtle")
    1
    """
    return len(set(_parse(source, format)))


class Scratch:
    """A small in-memory graph for file-level work (CONSTRUCT / SELECT over a few files).

    >>> s = Scratch()
    >>> s.add(b"<http://e/a> <http://e/p> <http://e/b> .", format="ntriples")
    1
    >>> s.select("SELECT ?o WHERE { ?s ?p ?o }")
    [{'o': 'http://e/b'}]
    """

    def __init__(self) -> None:
        self._store = ox.Store()

    def add(self, source: Source, *, format: str) -> int:
        """Add the triples of a file or byte string to the scratch graph; returns how many were read."""
        triples = list(_parse(source, format))
        self._store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        return len(triples)

    def __len__(self) -> int:
        return len(self._store)

    def construct(self, sparql: str, *, format: str = "ntriples") -> bytes:
        res = self._store.query(sparql)
        buf = io.BytesIO()
        ox.serialize(res, buf, format=OX_RDF[rdf_format_from_name(format).name])
        return buf.getvalue()

    def select(self, sparql: str) -> list[dict[str, str]]:
        """SELECT rows; IRIs and literals as their plain string value, blank nodes as ``_:id``."""
        res = self._store.query(sparql)
        names = [v.value for v in res.variables]
        rows = []
        for sol in res:
            row = {}
            for n in names:
                term = sol[n]
                if term is None:
                    continue
                row[n] = f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value
            rows.append(row)
        return rows

    def serialize(self, *, format: str = "ntriples", drop_predicates: Iterable[str] = ()) -> bytes:
        drop = {ox.NamedNode(p) for p in drop_predicates}
        buf = io.BytesIO()
        ox.serialize((q.triple for q in self._store if q.predicate not in drop), buf, format=OX_RDF[rdf_format_from_name(format).name])
        return buf.getvalue()


def rename_graphs(
    source: Source, *, format: str, rename: Callable[[str | None], str | None], output: IO[bytes], base_iri: str | None = None, to_format: str = "nquads"
) -> int:
    """Stream a dataset file (N-Quads, TriG) to ``to_format`` (N-Quads, TriG) in ``output`` with every graph renamed:
    ``rename(None)`` names the target of the file's default graph, ``rename(iri)`` a named graph's
    (blank-node graph names are passed as ``_:id``); ``None`` back means the output's default graph.
    Returns the number of quads written.

    >>> out = io.BytesIO()
    >>> rename_graphs(b'<http://e/a> <http://e/p> "1" <http://g/1> .\\n<http://e/a> <http://e/p> "2" .\\n', format="nquads",
    ...               rename=lambda g: "http://t/" + (g or "default"), output=out)
    2
    >>> print(out.getvalue().decode().strip())
    <http://e/a> <http://e/p> "1" <http://t/http://g/1> .
    <http://e/a> <http://e/p> "2" <http://t/default> .
    """
    f = rdf_format_from_name(format)
    kw: dict[str, Any] = {"format": OX_RDF[f.name], "base_iri": base_iri}
    if isinstance(source, (str, Path)) and not isinstance(source, bytes):
        kw["path"] = str(source)
    else:
        kw["input"] = source
    out_fmt = OX_RDF[rdf_format_from_name(to_format).name]
    cache: dict[Any, Any] = {}
    n = 0
    batch: list[ox.Quad] = []
    try:
        for q in ox.parse(**kw):
            g = q.graph_name
            target = cache.get(g)
            if target is None:
                name = None if isinstance(g, ox.DefaultGraph) else (g.value if isinstance(g, ox.NamedNode) else "_:" + g.value)
                new = rename(name)
                target = cache[g] = ox.DefaultGraph() if new is None else ox.NamedNode(new)
            batch.append(ox.Quad(q.subject, q.predicate, q.object, target))
            n += 1
            if len(batch) >= 50_000:
                output.write(ox.serialize(batch, format=out_fmt) or b"")  # TriG blocks may repeat a graph
                batch = []
    except SyntaxError as e:
        raise InputError("RDF_SYNTAX", f"{source if isinstance(source, (str, Path)) else 'the data'} is not valid {f.name}: {e}", hint="fix the file (line and column above)") from None
    if batch:
        output.write(ox.serialize(batch, format=out_fmt) or b"")
    return n


def parse_check(source: Source, *, format: str, base_iri: str | None = None) -> dict[str, Any]:
    """Parse without storing: ``{"quads": n, "graphs": [...]}`` (graph names of dataset files),
    or :class:`InputError` for bad syntax.

    >>> parse_check(b'<http://a> <http://p> <http://o> <http://g> .', format="nquads")
    {'quads': 1, 'graphs': ['http://g']}
    """
    fmt = rdf_format_from_name(format)
    graphs: set[str] = set()
    n = 0
    try:
        kw: dict[str, Any] = {"format": OX_RDF[fmt.name], "base_iri": base_iri}
        if isinstance(source, (str, Path)) and os.path.exists(str(source)):
            kw["path"] = str(source)
        else:
            kw["input"] = source
        for q in ox.parse(**kw):
            n += 1
            if fmt.quads and not isinstance(q.graph_name, ox.DefaultGraph):
                graphs.add(q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else "_:" + q.graph_name.value)
    except SyntaxError as e:
        raise rdf_syntax_error(e, fmt.name, str(source) if isinstance(source, Path) else None) from None
    return {"quads": n, "graphs": sorted(graphs)}
