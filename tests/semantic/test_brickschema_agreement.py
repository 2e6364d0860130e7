"""The profile agrees with brickschema on the Brick examples: types and inverse relations as
``expand("owlrl")`` (the 'reasonable' OWL 2 RL reasoner) gives them, tags as Brick's own SHACL-AF
rules give them (run by shifty, the engine brickschema uses).

All examples go into one graph, so brickschema's slow start (parsing Brick) is paid once.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

from kg_twin.reasoning.infer import infer_project
from kg_twin.service import create_twin
from kg_twin.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "brick"
#: the Brick examples of tests/data/brick (copied from BrickSchema/Brick examples/, see tests/data/README.md)
EXAMPLES = [
    "air_quality_sensor_example.ttl",
    "apartment.ttl",
    "building_meter.ttl",
    "chiller-plant.ttl",
    "evse.ttl",
    "g36-ahu-a9.ttl",
    "g36-combined-ahu-vav.ttl",
    "g36-vav-a2.ttl",
    "ifc.ttl",
    "last_known_value.ttl",
    "lighting.ttl",
    "solar_array.ttl",
]
BRICK = "https://brickschema.org/schema/Brick#"
HAS_TAG = URIRef(BRICK + "hasTag")


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    g = rdflib.Graph()
    for name in EXAMPLES:
        g.parse(DATA / name, format="turtle")
    return g


@pytest.fixture(scope="module")
def ours(data) -> set:
    t = create_twin(Settings(store="memory", base_iri="http://twin.test/"))
    t.store.load(data.serialize(format="nt", encoding="utf-8"), format="ntriples", graph=t.naming.graph("x", "examples"))
    infer_project(t.store, t.naming, "x")
    buf = io.BytesIO()
    t.store.dump(buf, format="ntriples", graphs=[t.naming.inferred_graph("x")])
    t.close()
    return set(rdflib.Graph().parse(data=buf.getvalue(), format="nt"))


@pytest.fixture(scope="module")
def owlrl(data) -> set:
    brickschema = pytest.importorskip("brickschema")
    g = brickschema.Graph(load_brick=True)
    ontology = set(g)
    for t in data:
        g.add(t)
    g.expand("owlrl")
    return set(g) - ontology - set(data)


SCHEMA = [RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty, OWL.inverseOf, RDFS.domain, RDFS.range]


def _nodes(data: rdflib.Graph) -> set:
    """Instances whose entailments the profile covers. The profile is compiled from the ontology
    bundle only; schema axioms written inside data (apartment.ttl declares
    ``brick:Apartment rdfs:subClassOf brick:Space``) are not part of it (docs/semantics.md), so
    instances of classes declared that way are left out of the comparison."""
    local = {s for p in SCHEMA for s in data.subjects(p, None)}
    out = {n for t in data for n in (t[0], t[2]) if isinstance(n, URIRef)}
    return {n for n in out if not any(c in local for c in data.objects(n, RDF.type))}


def _types(triples: set, nodes: set) -> set:
    return {t for t in triples if t[1] == RDF.type and t[0] in nodes and str(t[2]).startswith(BRICK)}


def _inverses(triples: set, data: rdflib.Graph) -> set:
    return {(s, q, o) for s, q, o in triples if q != RDF.type and str(q).startswith(BRICK) and any(True for _ in data.predicates(o, s))}


@pytest.mark.slow
def test_types_and_inverses_equal_brickschema_owlrl(data, ours, owlrl):
    nodes = _nodes(data)
    theirs_t, ours_t = _types(owlrl, nodes), _types(ours, nodes)
    assert len(theirs_t) > 500
    assert ours_t == theirs_t, (sorted(theirs_t - ours_t)[:5], sorted(ours_t - theirs_t)[:5])
    theirs_i, ours_i = _inverses(owlrl, data), _inverses(ours, data)
    assert len(theirs_i) > 100
    assert ours_i == theirs_i, (sorted(theirs_i - ours_i)[:5], sorted(ours_i - theirs_i)[:5])


@pytest.mark.slow
def test_tags_equal_brick_shacl_rules(data, ours, owlrl):
    shifty = pytest.importorskip("shifty")
    from kg_twin.ontologies import load_ontology_closure

    typed = rdflib.Graph()
    for t in data:
        typed.add(t)
    for t in _types(owlrl, _nodes(data)):
        typed.add(t)  # SHACL class targets need the class hierarchy: give the rules the typed data
    result = shifty.infer(typed.serialize(format="nt", encoding="utf-8"), load_ontology_closure(["brick"]))
    rules = rdflib.Graph().parse(data=result.inferred_ntriples, format="nt")
    theirs = {t for t in rules.triples((None, HAS_TAG, None)) if t not in data}
    nodes = _nodes(data)
    theirs = {t for t in theirs if t[0] in nodes}
    mine = {t for t in ours if t[1] == HAS_TAG and t[0] in nodes}
    assert len(theirs) > 500
    assert mine == theirs, (sorted(theirs - mine)[:5], sorted(mine - theirs)[:5])
