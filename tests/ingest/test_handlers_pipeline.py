"""The table / haystack / rdf handlers through the real ingest pipeline (detect, stage, validate, publish)."""

from __future__ import annotations

import itertools

import pytest
import rdflib

from kg_twin.ingest.pipeline import IngestOptions, ingest
from kg_twin.service import create_twin
from kg_twin.settings import Settings

from .helpers import BRICK, DATA, KGT

_ids = itertools.count()


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("handlers"), base_iri="http://twin.test/"))
    yield t
    t.close()


@pytest.fixture
def project(twin):
    p = f"h{next(_ids)}"
    twin.projects.create(p)
    return p


def published(twin, rep) -> rdflib.Graph:
    rows = twin.store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{rep.graph}> {{ ?s ?p ?o }} }}")
    g = rdflib.Graph()
    for r in rows:
        g.add((r["s"], r["p"], r["o"]))
    return g


@pytest.mark.parametrize(
    "path, reader, records",
    [
        ("tabular/data.csv", "table", 2),
        ("tabular/thermostats.xlsx", "table", 2),
        ("haystack/carytown.json", "haystack", 22),
        ("rdf/g36-vav-a2.ttl", "rdf", 1),
    ],
)
def test_detected_mapped_and_published(twin, project, path, reader, records):
    # the sample files lack storeys / units the default shapes ask for: publish anyway, keep the report
    rep = ingest(twin, project, DATA / path, IngestOptions(agent="tester", accept="violations"))
    assert rep.reader == reader and rep.status == "published"
    assert rep.records == records and rep.mapped + rep.rejected == rep.records and rep.rejected == 0
    g = published(twin, rep)
    assert len(g) >= rep.triples > 0
    typed = {s for s in g.subjects(rdflib.RDF.type, None) if (s, KGT.source, None) in g}
    assert typed, "entities carry kgt:source"


def test_table_points_linked_in_the_published_graph(twin, project):
    rep = ingest(twin, project, DATA / "tabular" / "data.csv", IngestOptions(agent="tester", accept="violations"))
    g = published(twin, rep)
    base = rdflib.Namespace(f"http://twin.test/id/{project}/")
    assert (base["equipment/tstat2"], BRICK.hasPoint, base["point/co2-345"]) in g
    assert (base["point/co2-345"], rdflib.RDF.type, BRICK.CO2_Sensor) in g
    assert (base["equipment/tstat2"], BRICK.hasLocation, base["room/room345"]) in g
