"""Per-project inference into the inferred graph, on the real in-memory store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import rdflib
import typer
from rdflib import RDF, RDFS, OWL, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from kg_twin.reasoning.brick import asserted_graphs, infer_graph, infer_project
from kg_twin.service import create_twin
from kg_twin.settings import Settings
from kg_twin.store import Dataset

DATA = Path(__file__).resolve().parents[1] / "data" / "brick"
G36 = DATA / "g36-combined-ahu-vav.ttl"
BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
EX = rdflib.Namespace("http://example.org#")
KGT = rdflib.Namespace("https://w3id.org/kg-twin/ontology#")
BASE = "http://twin.test/"


def _graph_of(store, graph: str) -> rdflib.Graph:
    buf = io.BytesIO()
    store.dump(buf, format="ntriples", graphs=[graph])
    return rdflib.Graph().parse(data=buf.getvalue(), format="nt")


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    t = create_twin(Settings(store="memory", data_dir=tmp_path_factory.mktemp("twin"), base_iri=BASE))
    t.projects.create("campus", title="Campus")
    t.store.load(G36, format="turtle", graph=t.naming.graph("campus", "hvac"))
    yield t
    t.close()


@pytest.fixture(scope="module")
def first_run(twin):
    return infer_project(twin.store, twin.naming, "campus")


def test_asking_for_temperature_sensor_finds_zone_air_temperature_sensor(twin, first_run):
    assert first_run.inferred_triples > 0
    ds = twin.dataset_for(["campus"])  # data graphs + the inferred graph, as queries see them
    rows = twin.store.select(
        "SELECT ?s WHERE { ?s a <https://brickschema.org/schema/Brick#Temperature_Sensor> }",
        dataset=Dataset(ds.default_graphs, ds.named_graphs),
    )
    found = {str(r["s"]) for r in rows}
    assert str(EX.zts1) in found  # asserted: brick:Zone_Air_Temperature_Sensor
    assert {str(EX.sats1), str(EX.oats1), str(EX.mats1)} <= found
    # without the inferred graph the same question finds nothing
    asserted = twin.dataset_for(["campus"], include_inferred=False)
    assert not twin.store.select(
        "SELECT ?s WHERE { ?s a <https://brickschema.org/schema/Brick#Temperature_Sensor> }",
        dataset=Dataset(asserted.default_graphs, asserted.named_graphs),
    )


def test_inverse_relations_are_materialized(twin, first_run):
    inferred = _graph_of(twin.store, twin.naming.inferred_graph("campus"))
    assert (EX.zts1, BRICK.isPointOf, EX.vav1) in inferred  # from ex:vav1 brick:hasPoint ex:zts1
    assert (EX.zts1, BRICK.isPointOf, EX.room2) in inferred
    assert (EX.hwvlv, BRICK.isPartOf, EX.hw_coil) in inferred  # from hasPart
    assert (EX.vav1, BRICK.isFedBy, EX.ahu1) in inferred  # from feeds
    # the umbrella classes of kgt.ttl
    assert (EX.zts1, RDF.type, KGT.Point) in inferred and (EX.zts1, RDF.type, KGT.Sensor) in inferred
    assert (EX.ahu1, RDF.type, KGT.Asset) in inferred
    # Brick's rules: class-to-tags
    assert (EX.zts1, BRICK.hasTag, URIRef("https://brickschema.org/schema/BrickTag#Temperature")) in inferred


def test_inferred_graph_holds_only_new_instance_triples(twin, first_run):
    inferred = _graph_of(twin.store, twin.naming.inferred_graph("campus"))
    asserted = rdflib.Graph().parse(G36, format="turtle")
    assert len(inferred) == first_run.inferred_triples
    nodes = {n for t in asserted for n in (t[0], t[2]) if isinstance(n, URIRef)}
    for s, p, o in inferred:
        assert (s, p, o) not in asserted
        assert s in nodes, f"inferred triple about a non-instance {s}"
        assert not isinstance(s, rdflib.BNode) and not isinstance(o, rdflib.BNode)
        assert not str(s).startswith(("https://brickschema.org/schema/", "https://w3id.org/bot#", "http://www.w3.org/"))
        assert p not in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf, OWL.equivalentClass)
        assert (p, o) not in ((RDF.type, OWL.Thing), (RDF.type, RDFS.Resource))
    # the asserted graph is untouched
    assert isomorphic(_graph_of(twin.store, twin.naming.graph("campus", "hvac")), asserted)
    assert twin.naming.inferred_graph("campus") not in asserted_graphs(twin.store, twin.naming, "campus")


def test_rerun_replaces_and_follows_changes(twin, first_run):
    # a second data graph: its entities are inferred too
    extra = twin.naming.graph("campus", "extra")
    twin.store.load(
        b"<http://example.org#zts9> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://brickschema.org/schema/Brick#Zone_Air_Temperature_Sensor> .",
        format="ntriples",
        graph=extra,
    )
    third = infer_project(twin.store, twin.naming, "campus")
    assert extra in third.asserted_graphs
    inferred = _graph_of(twin.store, twin.naming.inferred_graph("campus"))
    assert (EX.zts9, RDF.type, BRICK.Temperature_Sensor) in inferred
    # data removed: its inferences go too, the rest is rebuilt identically (the graph is replaced)
    twin.store.drop_graphs([extra])
    again = infer_project(twin.store, twin.naming, "campus")
    assert again.inferred_triples == first_run.inferred_triples
    inferred = _graph_of(twin.store, twin.naming.inferred_graph("campus"))
    assert not list(inferred.triples((EX.zts9, None, None)))
    assert len(inferred) == first_run.inferred_triples


def test_project_without_data_has_no_inferred_graph(twin):
    twin.projects.create("empty")
    stats = infer_project(twin.store, twin.naming, "empty")
    assert stats.inferred_triples == 0 and stats.asserted_graphs == []
    assert not twin.store.has_graph(twin.naming.inferred_graph("empty"))


def test_tags_to_class():
    g = rdflib.Graph().parse(
        data="""@prefix brick: <https://brickschema.org/schema/Brick#> . @prefix tag: <https://brickschema.org/schema/BrickTag#> .
        <http://ex/p1> brick:hasTag tag:Zone, tag:Air, tag:Temperature, tag:Sensor, tag:Point .
        <http://ex/p2> brick:hasTag tag:Point, tag:Bogus_Tag .
        <http://ex/ahu> a brick:AHU ; brick:hasPoint <http://ex/p1> .""",
        format="turtle",
    )
    new, stats = infer_graph(g)
    p1 = URIRef("http://ex/p1")
    assert stats.tag_classes == 1
    assert (p1, RDF.type, BRICK.Zone_Air_Temperature_Sensor) in new
    assert (p1, RDF.type, BRICK.Temperature_Sensor) in new  # and the hierarchy above it
    assert (p1, BRICK.isPointOf, URIRef("http://ex/ahu")) in new
    assert not list(new.triples((URIRef("http://ex/p2"), RDF.type, None))) or all(
        o in (BRICK.Point, KGT.Point) for o in new.objects(URIRef("http://ex/p2"), RDF.type)
    )


@pytest.mark.slow
def test_cli_infer(tmp_path):
    from kg_twin.cli.ontologies import register
    from kg_twin.store import open_store

    data_dir = tmp_path / "d"
    s = Settings(data_dir=data_dir, base_iri=BASE)
    t = create_twin(s)
    t.projects.create("cli")
    t.store.load(G36, format="turtle", graph=t.naming.graph("cli", "hvac"))
    t.close()

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    runner = CliRunner()
    res = runner.invoke(app, ["infer", "--project", "cli", "--json", "--data-dir", str(data_dir)], env={"KG_TWIN_BASE_IRI": BASE})
    assert res.exit_code == 0, res.output
    assert '"inferred_triples"' in res.stdout
    res = runner.invoke(app, ["infer", "--project", "nope", "--data-dir", str(data_dir)], env={"KG_TWIN_BASE_IRI": BASE})
    assert res.exit_code == 2 and "PROJECT_NOT_FOUND" in res.output
    st = open_store(s)
    try:
        assert st.graph_size(f"{BASE}graph/cli/inferred") > 0
    finally:
        st.close()


def test_bot_topology_through_the_alignment():
    g = rdflib.Graph().parse(
        data="""@prefix bot: <https://w3id.org/bot#> . @prefix ex: <http://ex/> .
        ex:site bot:hasBuilding ex:b . ex:b bot:hasStorey ex:s . ex:s bot:hasSpace ex:r . ex:r bot:containsElement ex:door .""",
        format="turtle",
    )
    new, _ = infer_graph(g)
    EXB = rdflib.Namespace("http://ex/")
    BOT = rdflib.Namespace("https://w3id.org/bot#")
    assert (EXB.site, BOT.containsZone, EXB.r) in new  # sub-properties of a transitive property
    assert (EXB.r, BRICK.isPartOf, EXB.b) in new  # bot:containsZone is a brick:hasPart (alignment), inverse isPartOf
    assert (EXB.s, RDF.type, BRICK.Floor) in new  # bot:Storey owl:equivalentClass brick:Floor
    assert (EXB.r, BOT.hasElement, EXB.door) in new  # containsElement is a hasElement
    # (bot:hasElement's property chain is not applied: 'reasonable' has no prp-spo2, see docs/semantics.md)
    assert (EXB.r, RDF.type, KGT.Space) in new and (EXB.door, RDF.type, KGT.Asset) in new
