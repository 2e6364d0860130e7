"""Small RDF documents (shapes graphs, validation reports) between files and rdflib, through
pyoxigraph's parsers and writers.

Parsing: relative IRIs resolve against the file's ``file:`` IRI (or the given base), and literals stay as
written (rdflib's own parser would turn ``"1"^^xsd:boolean`` into ``true``, which SHACL does not treat
alike: uniqueLang-002). Writing: literals stay as written too (rdflib's JSON-LD writer turns an ill-typed
``"none"^^xsd:boolean`` into ``false``).

>>> g = parse_rdf(data=b'<> <http://x/p> "1"^^<http://www.w3.org/2001/XMLSchema#boolean> .', fmt="turtle", base="file:///tmp/s.ttl")
>>> [(str(s), str(o)) for s, _p, o in g]
[('file:///tmp/s.ttl', '1')]
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pyoxigraph as ox
import rdflib

from kg_twin.errors import InputError
from kg_twin.store.view import from_rdflib, rdf_format_of, to_rdflib


def parse_rdf(path: Path | str | None = None, *, data: bytes | str | None = None, fmt: str | None = None, base: str | None = None) -> rdflib.Graph:
    """One file (base: its ``file:`` IRI) or one text (base: ``base``) as an rdflib graph."""
    g = rdflib.Graph()
    where: dict = {}
    try:
        if path is not None:
            p = Path(path)
            where = {"file": str(p)}
            if not p.is_file():
                raise InputError("FILE_NOT_FOUND", f"no such shapes file: {p}", where=where, hint="check the path")
            parser = ox.parse(path=str(p), format=rdf_format_of(p, fmt), base_iri=base or p.resolve().as_uri())
        else:
            raw = data.encode() if isinstance(data, str) else (data or b"")
            parser = ox.parse(raw, format=rdf_format_of("", fmt or "turtle"), base_iri=base)
        triples = [(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)) for q in parser]
    except SyntaxError as e:
        name = Path(path).name if path is not None else "shapes"
        raise InputError("RDF_SYNTAX", f"cannot parse {name}: {e}", where=where, hint="fix the RDF syntax (relative IRIs need a base IRI)") from e
    for prefix, ns in (parser.prefixes or {}).items():
        g.bind(prefix, ns, override=False)
    for t in triples:
        g.add(t)
    return g


WRITE_FORMATS = {"json-ld": ox.RdfFormat.JSON_LD, "ntriples": ox.RdfFormat.N_TRIPLES, "rdfxml": ox.RdfFormat.RDF_XML}


def serialize_triples(triples: Iterable[tuple], fmt: str) -> bytes:
    """rdflib triples written by pyoxigraph as JSON-LD, N-Triples or RDF/XML (``WRITE_FORMATS``).

    >>> from rdflib import Literal, URIRef, XSD
    >>> serialize_triples([(URIRef("http://x/s"), URIRef("http://x/p"), Literal("none", datatype=XSD.boolean, normalize=False))], "ntriples")
    b'<http://x/s> <http://x/p> "none"^^<http://www.w3.org/2001/XMLSchema#boolean> .\\n'
    """
    return ox.serialize([ox.Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in triples], format=WRITE_FORMATS[fmt])
