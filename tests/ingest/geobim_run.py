"""Helpers for the GIS / CityJSON / IFC / document handler tests: run a handler end to end
(read -> propose -> map), serialize to N-Triples and parse the result with rdflib."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph
import rdflib

from kg_twin.ingest.base import MapContext
from kg_twin.models import Record, Reject
from kg_twin.rdf import NTriplesWriter
from kg_twin.terms import Naming

DATA = Path(__file__).resolve().parent.parent / "data"
BASE = "http://twin.test/"
SOURCE = BASE + "id/test/source/0123abcd"

KGT = rdflib.Namespace("https://w3id.org/kg-twin/ontology#")
GEO = rdflib.Namespace("http://www.opengis.net/ont/geosparql#")
BOT = rdflib.Namespace("https://w3id.org/bot#")
REF = rdflib.Namespace("https://brickschema.org/schema/Brick/ref#")
BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
IFC = rdflib.Namespace("https://standards.buildingsmart.org/IFC/DEV/IFC4/ADD2_TC1/OWL#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
QUDT = rdflib.Namespace("http://qudt.org/schema/qudt/")
UNIT = rdflib.Namespace("http://qudt.org/vocab/unit/")
PREFIXES = """PREFIX kgt: <https://w3id.org/kg-twin/ontology#> PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX bot: <https://w3id.org/bot#> PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX qudt: <http://qudt.org/schema/qudt/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
XSD = rdflib.Namespace("http://www.w3.org/2001/XMLSchema#")  # open namespace: pytest probes module globals
RDF = rdflib.RDF
RDFS = rdflib.RDFS


@dataclass
class Run:
    records: list[Record]
    read_rejects: list[Reject]
    mapping: dict[str, Any]
    map_rejects: list[Reject]
    nt: bytes
    triples: list[tuple] = field(default_factory=list)

    @cached_property
    def graph(self) -> rdflib.Graph:
        g = rdflib.Graph()
        g.parse(data=self.nt, format="nt")
        return g

    @cached_property
    def store(self) -> pyoxigraph.Store:
        """The output in an in-memory pyoxigraph store (much faster than rdflib for big outputs)."""
        st = pyoxigraph.Store()
        st.bulk_load(self.nt, format=pyoxigraph.RdfFormat.N_TRIPLES)
        return st

    def select(self, query: str) -> list[dict[str, str]]:
        """SPARQL SELECT over :attr:`store`; values as plain strings (lexical forms / IRIs)."""
        res = self.store.query(PREFIXES + query)
        names = [v.value for v in res.variables]
        return [{n: (None if row[n] is None else row[n].value) for n in names} for row in res]

    @property
    def rejects(self) -> list[Reject]:
        return self.read_rejects + self.map_rejects


def make_ctx(source_name: str, project: str = "test", **options: Any) -> MapContext:
    return MapContext(naming=Naming(BASE), project=project, source_iri=SOURCE, source_name=source_name, options=dict(options))


def run_handler(handler: Any, path: Path, mapping: dict[str, Any] | None = None, **options: Any) -> Run:
    ctx = make_ctx(Path(path).name, **options)
    items = list(handler.read(Path(path)))
    records = [r for r in items if isinstance(r, Record)]
    read_rejects = [r for r in items if isinstance(r, Reject)]
    if mapping is None:
        mapping = handler.propose(records, ctx)
    w = NTriplesWriter()
    rejects: list[Reject] = []
    triples = []
    for x in handler.map(records, mapping, ctx):
        if isinstance(x, Reject):
            rejects.append(x)
        else:
            w.add(*x)
            triples.append(x)
    return Run(records, read_rejects, mapping, rejects, w.getvalue(), triples)
