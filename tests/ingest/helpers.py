"""Turn handler output into an rdflib graph for assertions (tests only)."""

from __future__ import annotations

from pathlib import Path

import rdflib

from kg_twin.models import Reject
from kg_twin.rdf import NTriplesWriter


def split(items):
    triples, rejects = [], []
    for x in items:
        (rejects if isinstance(x, Reject) else triples).append(x)
    return triples, rejects


def to_graph(triples) -> rdflib.Graph:
    w = NTriplesWriter()
    w.extend(triples)
    g = rdflib.Graph()
    g.parse(data=w.getvalue().decode(), format="nt")
    return g


def without(g: rdflib.Graph, *predicates) -> rdflib.Graph:
    """A copy of ``g`` without the triples of these predicates (e.g. what differs by file name)."""
    drop = set(predicates)
    out = rdflib.Graph()
    for t in g:
        if t[1] not in drop:
            out.add(t)
    return out


BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
KGT = rdflib.Namespace("https://w3id.org/kg-twin/ontology#")
ID = rdflib.Namespace("http://twin.test/id/demo/")

DATA = Path(__file__).resolve().parents[1] / "data"
