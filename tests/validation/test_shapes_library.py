"""Shapes library: every set has a passing and a failing fixture; failures are asserted by
focus node and sh:sourceConstraintComponent, with the kgtwin engine and with pyshacl."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kg_twin.validation import validate_files
from kg_twin.validation.engine import SH, ShapesGraph
from kg_twin.validation.shapes import brick_ontology_file, list_shape_sets, load_shapes, matching_shape_sets

DATA = Path(__file__).resolve().parents[1] / "data" / "shapes"

EXPECTED_FAILURES = {
    "core/entity": [("badlabel", "Or"), ("foreign", "QualifiedMinCount"), ("nolabel", "MinCount"), ("nosrc", "MinCount"), ("twosources", "MaxCount"), ("unnamed", "MinCount")],
    "brick/points": [("badunit", "Pattern"), ("nounit", "MinCount"), ("orphan", "MinCount"), ("twounits", "MaxCount")],
    "bot/topology": [("f0", "MinCount"), ("f1", "MaxCount"), ("r1", "MinCount"), ("r2", "Class")],
    "geo/feature": [("badjson", "Pattern"), ("empty", "Or"), ("g3", "Pattern"), ("lambert", "Node"), ("nogeom", "MinCount"), ("string", "Datatype"), ("twogeoms", "MaxCount"), ("twogeoms", "MaxCount")],
    "sosa/observation": [("badtime", "Datatype"), ("noresult", "MinCount"), ("nosensor", "MinCount")],
    "dcat/document": [("badmedia", "Pattern"), ("badsum", "Node"), ("untitled", "MinCount")],
    "geo/plausibility": [("flat", "MinExclusive"), ("manyfloors", "MaxInclusive"), ("mm", "MaxInclusive"), ("nostorey", "SPARQL"), ("squat", "SPARQL")],
}


def _keys(outcome):
    return sorted((str(r.focus).rsplit("/", 1)[-1].rstrip(">"), str(r.component).rsplit("#", 1)[-1].removesuffix("ConstraintComponent")) for r in outcome.results)


def test_library_lists_every_set():
    assert sorted(s.name for s in list_shape_sets()) == sorted(EXPECTED_FAILURES)


def test_every_shape_has_name_message_and_iri_namespace():
    for s in list_shape_sets():
        g = s.graph()
        sg = ShapesGraph(g)
        for node in sg.shape_nodes():
            assert g.value(node, SH.name) is not None, f"{s.name}: {node} has no sh:name"
            assert g.value(node, SH.message) is not None, f"{s.name}: {node} has no sh:message"
            if isinstance(node, rdflib.URIRef):
                assert str(node).startswith("https://w3id.org/kg-twin/shapes#"), node


@pytest.mark.parametrize("engine", ["kgtwin", "pyshacl"])
@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_fixtures(name, engine):
    stem = name.replace("/", "-")
    shapes = load_shapes([name])
    closure = [brick_ontology_file()]
    ok = validate_files([DATA / f"{stem}.pass.ttl"], [], closure_files=closure, shapes=shapes, engine=engine)
    assert ok.conforms, ok.summary.results
    bad = validate_files([DATA / f"{stem}.fail.ttl"], [], closure_files=closure, shapes=shapes, engine=engine)
    assert not bad.conforms
    assert _keys(bad) == EXPECTED_FAILURES[name]
    assert bad.summary.engines and set(bad.summary.engines.values()) == {engine}


def test_default_selection_matches_data():
    from kg_twin.store.view import ShaclView

    view = ShaclView.empty()
    view.load_file(DATA / "brick-points.fail.ttl")
    view.add_closure_file(brick_ontology_file())
    assert matching_shape_sets(view) == ["brick/points"]
    view.load_file(DATA / "bot-topology.pass.ttl")
    assert matching_shape_sets(view) == ["bot/topology", "brick/points"]


def test_summary_lines_are_readable():
    out = validate_files([DATA / "bot-topology.fail.ttl"], [], shapes=load_shapes(["bot/topology"]))
    s = out.summary
    assert s.total == 4 and s.by_severity == {"Violation": 4}
    assert any(line.startswith("Violation <http://example.org/twin/f0> path ^bot:hasStorey") for line in s.results), s.results
    assert "kgt-sh:SpaceInStoreyShape/^bot:hasSpace" in s.by_shape
