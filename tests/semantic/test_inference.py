"""Per-project inference into the inferred graph, on the real in-memory store."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import rdflib
import typer
from rdflib import OWL, RDF, RDFS, URIRef
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from kg_twin.reasoning.infer import Change, apply_change, asserted_graphs, infer_project, snapshot, stage
from kg_twin.service import create_twin
from kg_twin.settings import Settings
from kg_twin.store import Dataset

DATA = Path(__file__).resolve().parents[1] / "data" / "brick"
G36 = DATA / "g36-combined-ahu-vav.ttl"
OFFICE = DATA / "smallOffice_brick.ttl"
BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
TAG = rdflib.Namespace("https://brickschema.org/schema/BrickTag#")
BOT = rdflib.Namespace("https://w3id.org/bot#")
EX = rdflib.Namespace("http://example.org#")
KGT = rdflib.Namespace("https://w3id.org/kg-twin/ontology#")
BASE = "http://twin.test/"


def _graph_of(store, graph: str) -> rdflib.Graph:
    buf = io.BytesIO()
    if store.has_graph(graph):
        store.dump(buf, format="ntriples", graphs=[graph])
    return rdflib.Graph().parse(data=buf.getvalue(), format="nt")


def _infer_turtle(text: str) -> rdflib.Graph:
    """Entailments of a small Turtle document (a throwaway in-memory project)."""
    t = create_twin(Settings(store="memory", base_iri=BASE))
    t.store.load(text.encode(), format="turtle", graph=t.naming.graph("x", "data"))
    infer_project(t.store, t.naming, "x")
    out = _graph_of(t.store, t.naming.inferred_graph("x"))
    t.close()
    return out


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
    rows = twin.store.select("SELECT ?s WHERE { ?s a <https://brickschema.org/schema/Brick#Temperature_Sensor> }", dataset=Dataset(ds.default_graphs, ds.named_graphs))
    found = {str(r["s"]) for r in rows}
    assert str(EX.zts1) in found  # asserted: brick:Zone_Air_Temperature_Sensor
    assert {str(EX.sats1), str(EX.oats1), str(EX.mats1)} <= found
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
    assert (EX.zts1, RDF.type, KGT.Point) in inferred and (EX.zts1, RDF.type, KGT.Sensor) in inferred
    assert (EX.ahu1, RDF.type, KGT.Asset) in inferred
    assert (EX.zts1, BRICK.hasTag, TAG.Temperature) in inferred  # Brick's class-to-tag rules


def test_inferred_graph_holds_only_entailments_not_asserted(twin, first_run):
    inferred = _graph_of(twin.store, twin.naming.inferred_graph("campus"))
    asserted = rdflib.Graph().parse(G36, format="turtle")
    assert len(inferred) == first_run.inferred_triples
    nodes = {n for t in asserted for n in (t[0], t[2]) if not isinstance(n, rdflib.Literal)}
    for s, p, o in inferred:
        assert (s, p, o) not in asserted
        assert s in nodes, f"inferred triple about a non-instance {s}"
        assert p not in (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.inverseOf, OWL.equivalentClass)
        assert (p, o) not in ((RDF.type, OWL.Thing), (RDF.type, RDFS.Resource))
    assert isomorphic(_graph_of(twin.store, twin.naming.graph("campus", "hvac")), asserted)
    assert twin.naming.inferred_graph("campus") not in asserted_graphs(twin.store, twin.naming, "campus")
    # an entailed triple asserted in another graph leaves the inferred graph
    other = twin.naming.graph("campus", "other")
    twin.store.load(f"<{EX.zts1}> <{RDF.type}> <{BRICK.Temperature_Sensor}> .".encode(), format="ntriples", graph=other)
    infer_project(twin.store, twin.naming, "campus")
    assert (EX.zts1, RDF.type, BRICK.Temperature_Sensor) not in _graph_of(twin.store, twin.naming.inferred_graph("campus"))
    twin.store.drop_graphs([other])
    infer_project(twin.store, twin.naming, "campus")
    assert (EX.zts1, RDF.type, BRICK.Temperature_Sensor) in _graph_of(twin.store, twin.naming.inferred_graph("campus"))


def test_project_without_data_has_no_inferred_graph(twin):
    twin.projects.create("empty")
    stats = infer_project(twin.store, twin.naming, "empty")
    assert stats.inferred_triples == 0 and stats.asserted_graphs == []
    assert not twin.store.has_graph(twin.naming.inferred_graph("empty"))


def test_tags_to_class():
    new = _infer_turtle(
        """@prefix brick: <https://brickschema.org/schema/Brick#> . @prefix tag: <https://brickschema.org/schema/BrickTag#> .
        <http://ex/p1> brick:hasTag tag:Zone, tag:Air, tag:Temperature, tag:Sensor, tag:Point .
        <http://ex/p2> brick:hasTag tag:Point, tag:Bogus_Tag .
        <http://ex/ahu> a brick:AHU ; brick:hasPoint <http://ex/p1> ."""
    )
    p1 = URIRef("http://ex/p1")
    assert (p1, RDF.type, BRICK.Zone_Air_Temperature_Sensor) in new
    assert (p1, RDF.type, BRICK.Temperature_Sensor) in new  # and the hierarchy above it
    assert (p1, BRICK.isPointOf, URIRef("http://ex/ahu")) in new
    assert not list(new.triples((URIRef("http://ex/p2"), RDF.type, None)))


def test_bot_topology_through_the_alignment():
    new = _infer_turtle(
        """@prefix bot: <https://w3id.org/bot#> . @prefix ex: <http://ex/> .
        ex:site bot:hasBuilding ex:b . ex:b bot:hasStorey ex:s . ex:s bot:hasSpace ex:r . ex:r bot:containsElement ex:door ."""
    )
    E = rdflib.Namespace("http://ex/")
    assert (E.b, BOT.containsZone, E.s) in new  # hasStorey is a containsZone
    assert (E.r, BRICK.isPartOf, E.s) in new  # bot:containsZone is a brick:hasPart (alignment), inverse isPartOf
    assert (E.s, RDF.type, BRICK.Floor) in new  # bot:Storey owl:equivalentClass brick:Floor (and the range of hasStorey)
    assert (E.r, BOT.hasElement, E.door) in new  # containsElement is a hasElement
    assert (E.r, RDF.type, KGT.Space) in new and (E.door, RDF.type, KGT.Asset) in new
    # transitivity is left out of the profile (docs/semantics.md): ask with a path, bot:containsZone+
    assert (E.site, BOT.containsZone, E.r) not in new


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


# ------------------------------------------------------------------ incremental == full
def _two_projects(t: Twin) -> None:
    for p in ("inc", "full"):
        t.store.load(OFFICE, format="turtle", graph=t.naming.graph(p, "office"))
        t.store.load(G36, format="turtle", graph=t.naming.graph(p, "hvac"))
        infer_project(t.store, t.naming, p)


def _same_inferred(t: Twin) -> None:
    infer_project(t.store, t.naming, "full")  # a recomputation: only the difference is written
    inc = _graph_of(t.store, t.naming.inferred_graph("inc"))
    full = _graph_of(t.store, t.naming.inferred_graph("full"))
    assert len(inc) == len(full) and isomorphic(inc, full), (len(inc), len(full))
    t.store.drop_graphs([t.naming.inferred_graph("full")])
    infer_project(t.store, t.naming, "full")  # from scratch
    fresh = _graph_of(t.store, t.naming.inferred_graph("full"))
    assert len(fresh) == len(full) and isomorphic(fresh, full), (len(fresh), len(full))


@pytest.fixture()
def pair(tmp_path):
    t = create_twin(Settings(store="memory", base_iri=BASE))
    _two_projects(t)
    yield t
    t.close()


def test_retracting_one_triple_removes_exactly_what_it_alone_supported(pair):
    t = pair
    g36 = rdflib.Graph().parse(G36, format="turtle")
    victims = [
        (EX.vav1, BRICK.hasPoint, EX.zts1),  # the only premise of zts1 isPointOf vav1
        next(iter(g36.triples((EX.zts1, RDF.type, None)))),  # the type behind all of zts1's superclasses and tags
        next(iter(g36.triples((EX.ahu1, BRICK.feeds, None)))),
    ]
    for s, p, o in victims:
        line = f"{s.n3()} {p.n3()} {o.n3()} ."
        for proj in ("inc", "full"):
            g = t.naming.graph(proj, "hvac")
            change = Change(added=[g], removed=[snapshot(t.store, t.naming, proj, [g])]) if proj == "inc" else None
            t.store.update(f"DELETE DATA {{ GRAPH <{g}> {{ {line} }} }}")
            if change is not None:
                before = _graph_of(t.store, t.naming.inferred_graph("inc"))
                apply_change(t.store, t.naming, "inc", change)
                after = _graph_of(t.store, t.naming.inferred_graph("inc"))
                assert len(after) < len(before)
        _same_inferred(t)
    # the retractions left no scratch graphs behind
    assert not [g for g in t.store.graphs() if g.startswith(t.naming.graph("inc", "_inference/")) and not g.endswith("/tags")]


def test_added_data_and_dropped_graphs_are_incremental(pair):
    t = pair
    extra = (
        '@prefix brick: <https://brickschema.org/schema/Brick#> . @prefix tag: <https://brickschema.org/schema/BrickTag#> . @prefix ex: <http://example.org#> .\n'
        "ex:vav9 a brick:VAV ; brick:hasPoint ex:t9 ; brick:isFedBy ex:ahu1 .\n"
        "ex:t9 brick:hasTag tag:Zone, tag:Air, tag:Temperature, tag:Sensor, tag:Point .\n"
        "ex:zts1 a brick:Temperature_Sensor .\n"  # already entailed: leaves the inferred graph
    )
    for proj in ("inc", "full"):
        g = t.naming.graph(proj, "hvac")
        t.store.load(extra.encode(), format="turtle", graph=g)
        if proj == "inc":
            change = Change(added=[stage(t.store, t.naming, proj, extra.encode(), format="turtle")])
            apply_change(t.store, t.naming, "inc", change)
    _same_inferred(t)
    assert (EX.zts1, RDF.type, BRICK.Temperature_Sensor) not in _graph_of(t.store, t.naming.inferred_graph("inc"))
    assert (EX.t9, RDF.type, BRICK.Air_Temperature_Sensor) in _graph_of(t.store, t.naming.inferred_graph("inc"))
    # a tag that breaks the exact tag set retracts the tag class
    for proj in ("inc", "full"):
        more = b"<http://example.org#t9> <https://brickschema.org/schema/Brick#hasTag> <https://brickschema.org/schema/BrickTag#Discharge> ."
        t.store.load(more, format="ntriples", graph=t.naming.graph(proj, "hvac"))
        if proj == "inc":
            change = Change(added=[stage(t.store, t.naming, proj, more, format="ntriples")])
            apply_change(t.store, t.naming, "inc", change)
    _same_inferred(t)
    # dropping a whole graph
    for proj in ("inc", "full"):
        g = t.naming.graph(proj, "office")
        change = Change(added=[g], removed=[snapshot(t.store, t.naming, proj, [g])]) if proj == "inc" else Change()
        t.store.drop_graphs([g])
        if proj == "inc":
            apply_change(t.store, t.naming, "inc", change)
    _same_inferred(t)


# ------------------------------------------------------------------ answers do not double
COUNTS = {
    "labels": "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "points": "SELECT (COUNT(*) AS ?n) WHERE { ?e <https://brickschema.org/schema/Brick#hasPoint> ?p }",
    "features": "SELECT (COUNT(*) AS ?n) WHERE { ?f <http://www.opengis.net/ont/geosparql#hasDefaultGeometry> ?g }",
    "typed points": "SELECT (COUNT(*) AS ?n) WHERE { ?p a <https://brickschema.org/schema/Brick#Point> }",
}


def test_counts_are_the_same_with_and_without_inference(tmp_path):
    from bench.generate import write

    src = tmp_path / "d.nt"
    write(src, 3000)
    t = create_twin(Settings(store="memory", base_iri=BASE))
    t.projects.create("c")
    t.store.load(src, format="ntriples", graph=t.naming.graph("c", "district"))
    # the same data also asserts some entailments (as real sources do): still counted once
    t.store.update(
        f"INSERT {{ GRAPH <{t.naming.graph('c', 'extra')}> {{ ?p <https://brickschema.org/schema/Brick#isPointOf> ?e . ?p a <https://brickschema.org/schema/Brick#Point> }} }}"
        f" WHERE {{ GRAPH <{t.naming.graph('c', 'district')}> {{ ?p <https://brickschema.org/schema/Brick#isPointOf> ?e }} }}"
    )

    def counts(include_inferred: bool) -> dict[str, int]:
        ds = t.dataset_for(["c"], include_inferred=include_inferred)
        return {k: int(t.store.select(q, dataset=Dataset(ds.default_graphs, ds.named_graphs))[0]["n"]) for k, q in COUNTS.items()}

    without = counts(False)
    infer_project(t.store, t.naming, "c")
    with_inf = counts(True)
    assert without["labels"] > 0 and without["features"] > 0
    assert {k: with_inf[k] for k in ("labels", "features")} == {k: without[k] for k in ("labels", "features")}
    # hasPoint is only entailed (isPointOf is asserted): with inference every point once, no duplicates
    n_points = len(t.store.select(f"SELECT DISTINCT ?p ?e WHERE {{ GRAPH <{t.naming.graph('c', 'district')}> {{ ?p <https://brickschema.org/schema/Brick#isPointOf> ?e }} }}"))
    assert without["points"] == 0 and with_inf["points"] == n_points
    assert with_inf["typed points"] == without["typed points"] == n_points  # each point once though typed in two graphs
    t.close()


def _reference(data: rdflib.Graph) -> rdflib.Graph:
    """The profile applied triple by triple in Python (the oracle): tag classes, then every
    one-premise rule on the data and the tag classes, minus what is asserted."""
    from kg_twin.reasoning.profile import compile_profile
    from kg_twin.reasoning.tags import classes_for

    prof = compile_profile()
    tags: dict = {}
    for s, o in data.subject_objects(BRICK.hasTag):
        tags.setdefault(s, set()).add(str(o))
    premises = rdflib.Graph()
    premises += data
    for s, ts in tags.items():
        found = classes_for(ts, prof)
        if len(found) == 1:
            premises.add((s, RDF.type, URIRef(found[0])))
    out = rdflib.Graph()
    out += premises
    node = lambda x: not isinstance(x, rdflib.Literal)  # noqa: E731
    for s, p, o in premises:
        if p == RDF.type and isinstance(o, URIRef):
            out += [(s, RDF.type, URIRef(d)) for d in prof.type.get(str(o), ())] + [(s, BRICK.hasTag, URIRef(t)) for t in prof.tag.get(str(o), ())]
        out += [(s, URIRef(q), o) for q in prof.fwd.get(str(p), ())]
        out += [(s, RDF.type, URIRef(d)) for d in prof.dom.get(str(p), ())] + [(s, BRICK.hasTag, URIRef(t)) for t in prof.domtag.get(str(p), ())]
        if node(o):
            out += [(o, URIRef(q), s) for q in prof.inv.get(str(p), ())]
            out += [(o, RDF.type, URIRef(d)) for d in prof.rng.get(str(p), ())] + [(o, BRICK.hasTag, URIRef(t)) for t in prof.rngtag.get(str(p), ())]
    return out - data


def test_full_materialisation_equals_the_profile_applied_triple_by_triple():
    """The constructs leave out heads a node's asserted class already gives, and the asserted
    overlap is removed by pattern: the result must still be exactly the profile's closure."""
    extra = """@prefix ex: <http://example.org#> . @prefix brick: <https://brickschema.org/schema/Brick#> .
    @prefix tag: <https://brickschema.org/schema/BrickTag#> .
    ex:orphan brick:hasLocation ex:room1 .
    ex:zts1 brick:hasLocation ex:room1 .
    ex:tagged brick:hasTag tag:Zone, tag:Air, tag:Temperature, tag:Sensor, tag:Point ; brick:isPointOf ex:vav1 .
    ex:zts1 a brick:Point, brick:Temperature_Sensor .
    ex:vav1 brick:isPointOf ex:orphan ."""
    data = rdflib.Graph().parse(G36, format="turtle").parse(data=extra, format="turtle")
    got = _infer_turtle(data.serialize(format="turtle"))
    want = _reference(data)
    GEO = rdflib.Namespace("http://www.opengis.net/ont/geosparql#")
    assert (URIRef(EX.orphan), RDF.type, GEO.Feature) in want and (URIRef(EX.zts1), RDF.type, BRICK.Point) not in want
    assert len(got) == len(want) and isomorphic(got, want)
    # the data does exercise the leaving out (hasLocation's domain types are entailed by a class used)
    from kg_twin.reasoning.profile import compile_profile
    from kg_twin.reasoning.rules import property_constructs

    classes = {str(o) for o in data.objects(None, RDF.type)}
    assert any("FILTER NOT EXISTS" in c.where for c in property_constructs(compile_profile(), str(BRICK.hasLocation), ["http://g"], classes))
